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

"""The node's ROS-free parts: frame mailbox, statistics, parameter table and YAML."""

from deeplab_ros.node import LatestFrame
from deeplab_ros.node_parameters import check, descriptor, PARAMETERS
from deeplab_ros.node_stats import NodeStats
from lint_paths import REPO
import pytest
from rcl_interfaces.msg import ParameterType
import yaml


def test_latest_frame_keeps_only_the_newest():
    box = LatestFrame()
    assert box.take(timeout=0.01) is None
    assert box.put('a') is False
    assert box.put('b') is True  # 'a' was never taken: dropped
    assert box.take(timeout=0.01) == 'b'
    assert box.take(timeout=0.01) is None


def test_stats_windows_and_totals():
    now = [0.0]
    stats = NodeStats(clock=lambda: now[0])
    for _ in range(10):
        stats.received()
    stats.dropped()
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
    assert not report['ok'] and '1 bad input frame' in report['message']
    now[0] = 3.0
    report = stats.report()
    assert report['ok'] and report['message'] == 'waiting for images'
    assert report['values']['frames_received'] == 10 and report['values']['input_rate_hz'] == 0


def test_every_parameter_has_a_description_and_type():
    for name, spec in PARAMETERS.items():
        desc = descriptor(spec)
        assert len(desc.description) > 15, name
        assert desc.type != ParameterType.PARAMETER_NOT_SET or desc.dynamic_typing, name
    assert descriptor(PARAMETERS['overlay_alpha']).floating_point_range[0].to_value == 1.0
    assert descriptor(PARAMETERS['model_path']).read_only
    assert not descriptor(PARAMETERS['rate']).read_only


def test_check_rejects_with_reasons():
    check({'qos': 'auto', 'input_size': 0, 'rate': 3.0})
    with pytest.raises(ValueError, match='qos must be one of auto, reliable, sensor_data'):
        check({'qos': 'fast'})
    with pytest.raises(ValueError, match='input_size must be 0 or at least 16'):
        check({'input_size': 4})


def test_config_yaml_holds_exactly_the_declared_parameters():
    config = yaml.safe_load((REPO / 'config' / 'deeplab.yaml').read_text())
    params = config['/**']['ros__parameters']
    assert set(params) == set(PARAMETERS)
    for name, value in params.items():
        assert value == PARAMETERS[name].default, name
