# Copyright 2026 deeplab_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""The node's ROS-free parts: statistics, health, parameter table and YAML."""

from deeplab_ros.node.settings import check_settings as check, PARAMETERS
from deeplab_ros.pipeline.frame_stats import CameraStats
from deeplab_ros.pipeline.health import health
from deeplab_ros.ros.parameters import descriptor
from lint_paths import REPO
import pytest
from rcl_interfaces.msg import ParameterType
import yaml

pytestmark = pytest.mark.ros


def test_stats_windows_and_totals():
    now = [0.0]
    stats = CameraStats(clock=lambda: now[0])
    for _ in range(8):
        stats.arrived()
    stats.arrived(2)  # one of these two was replaced before it was taken
    stats.bad_frame()
    for latency in (0.01, 0.02, 0.03, 0.04):
        stats.inferred(0.05)
        stats.published(latency)
    stats.published(None)
    now[0] = 2.0
    report = stats.report()
    values = report['values']
    assert values['input_rate_hz'] == 5.0 and values['output_rate_hz'] == 2.5
    assert values['inference_ms_mean'] == 50.0 and values['latency_ms_p50'] == 25.0
    assert (values['frames_dropped'], values['bad_frames']) == (1, 1)
    assert health('active', report) == (
        'WARN', '1 bad input frame(s) and 0 failed frame(s) dropped in the last 2.0 s')
    now[0] = 4.0  # the input rate is averaged over the last 3 s: nothing arrived in them
    report = stats.report()
    assert report['values']['frames_received'] == 10 and report['values']['input_rate_hz'] == 0
    assert health('active', report, topic='/cam', since_input=None) == (
        'OK', 'waiting for images on /cam')
    assert health('active', report, topic='/cam', since_input=4.0) == (
        'WARN', 'no frame from /cam for 4 s (it was streaming: is the camera still running?)')


def test_frames_nobody_wanted_are_unused_not_dropped():
    """Hardening III, 20: 1471 of 1583 frames read as dropped while nobody subscribed."""
    stats = CameraStats()
    stats.arrived(30, unused=True)   # sampled once a second while idle
    stats.arrived(None, unused=True)
    stats.arrived(3)                 # someone subscribed: two replaced unseen
    values = stats.report()['values']
    assert (values['frames_received'], values['frames_unused'], values['frames_dropped']) == (
        34, 31, 2)


def test_health_names_rate_limits_stuck_stages_and_a_missing_clock():
    now = [0.0]
    stats = CameraStats(clock=lambda: now[0])
    for step in range(30):  # 10 Hz arriving in bursts of samples, 0.25 Hz segmented
        now[0] = step / 10
        stats.arrived(1)
    stats.published(0.01)
    now[0] = 3.0
    report = stats.report()
    assert health('active', report, rate=0.25) == (
        'OK', 'rate-limited to 0.25 Hz: 10.0 Hz arriving, 0.33 Hz segmented')
    level, message = health('active', report, busy=('infer', 20.0))
    assert (level, message) == ('ERROR', 'active: one frame has been in the infer stage for 20 s '
                                         '(a model call or frame that slow blocks the node)')
    assert health('inactive', report, busy=('infer', 20.0))[0] == 'ERROR'
    assert health('active', report, busy=('infer', 1.0))[0] == 'OK'
    assert health('active', report, clock_missing=True)[1].startswith(
        'use_sim_time is true but no /clock arrives')


def test_health_names_idle_stalled_and_dead_states():
    now = [0.0]
    stats = CameraStats(clock=lambda: now[0])
    for _ in range(30):
        stats.arrived()
    now[0] = 1.0
    report = stats.report()
    idle = health('active', report, subscribed=False)
    assert idle == ('OK', 'idle: nobody subscribes to an output (30.0 Hz arriving, none '
                          'segmented)')
    level, message = health('active', report, silent_for=6.0)
    assert level == 'ERROR' and message.startswith('no output for 6 s although frames arrive')
    assert health('active', report, silent_for=6.0, rate=0.1)[0] == 'OK'  # 10 s period
    assert health('active', report, workers_alive=False)[0] == 'ERROR'
    assert health('inactive', report) == ('OK', 'inactive: no inference until activated')
    assert health('unconfigured', report, config_error='model x is empty') == (
        'ERROR', 'unconfigured: model x is empty')


def test_every_parameter_has_a_description_and_type():
    for name, spec in PARAMETERS.items():
        desc = descriptor(spec)
        assert len(desc.description) > 15, name
        assert desc.type != ParameterType.PARAMETER_NOT_SET or desc.dynamic_typing, name
    assert descriptor(PARAMETERS['overlay_alpha']).floating_point_range[0].to_value == 1.0
    assert descriptor(PARAMETERS['model_path']).read_only
    managed = descriptor(PARAMETERS['model_path'], managed=True)
    assert not managed.read_only and 'applied at configure' in managed.description
    assert not descriptor(PARAMETERS['rate']).read_only


def test_check_rejects_with_reasons():
    check({'qos': 'auto', 'input_size': 0, 'rate': 3.0})
    with pytest.raises(ValueError, match='qos must be one of auto, reliable, sensor_data'):
        check({'qos': 'fast'})
    with pytest.raises(ValueError, match='input_size must be 0 or at least 16'):
        check({'input_size': 4})
    with pytest.raises(ValueError, match=r'rate must be 0 \(every frame\) or at least 0.01'):
        check({'rate': 1e-12})
    check({'mask_classes': None, 'cloud_classes': []})   # `[]` in a parameters file: None
    for not_a_list in ('person', 5):  # a word is no list of letters; a number no list at all
        with pytest.raises(ValueError, match='mask_classes must be a list of names or numbers'):
            check({'mask_classes': not_a_list})


def test_config_yaml_holds_exactly_the_declared_parameters():
    config = yaml.safe_load((REPO / 'config' / 'deeplab.yaml').read_text())
    params = config['/**']['ros__parameters']
    assert set(params) == set(PARAMETERS)
    for name, value in params.items():
        assert value == PARAMETERS[name].default, name
