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

"""
The managed node over real DDS: every transition through lifecycle_msgs, a camera on.

Also what configure refuses (a device or a FIFO as a file), and the /diagnostics
verdicts: idle without subscribers, an error when frames arrive, subscribers
wait and no output comes.
"""

import os

from conftest import BIRD, RosProcess, wait_for
from node_harness import Camera, Harness, harnessed, running_node
import numpy as np
import pytest

pytestmark = pytest.mark.ros


def cpu_seconds(pid):
    """User + system CPU time of process ``pid`` so far (from /proc)."""
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def test_every_transition_with_a_streaming_camera(pascal_model, bird_bgr, tmp_path):
    missing = tmp_path / 'missing.tflite'
    node = RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
                       '-r', '__node:=managed',
                       '-r', 'image:=/managed/camera', '-p', 'autostart:=false',
                       '-p', f'model_path:={missing}', '-p', 'qos:=reliable'])
    with harnessed(node, 'managed', image='/managed/camera') as harness, \
            Camera(harness, bird_bgr) as camera:
        assert harness.state() == 'unconfigured'
        assert harness.publishes_nothing()
        # A failed configure: FAILURE, the reason logged, still unconfigured ...
        assert harness.transition('configure') is False
        assert node.wait_for_output(f"cannot configure: model '{missing}' is neither", 10)
        assert harness.state() == 'unconfigured'
        level, message, _ = harness.status()
        assert level == 2 and message.startswith('unconfigured: model')
        # ... fixed with a parameter, then configured: the model loads, no output yet.
        assert harness.set_parameters(model_path=str(pascal_model))[0].successful
        assert harness.transition('configure') is True
        assert harness.state() == 'inactive'
        assert harness.latched_labels() is not None
        assert harness.publishes_nothing()
        refused = harness.set_parameters(model_path=str(missing))[0]
        assert not refused.successful and 'applied at configure' in refused.reason
        # Active: outputs flow, correct ones.
        assert harness.transition('activate') is True
        harness.send(harness.frame(bird_bgr, 'bgr8', 'first'))
        assert harness.wait_for_outputs(3) >= 3
        labels = harness.received['label_map'][-1]
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
        # Deactivated: unsubscribed, no output and (almost) no CPU while the camera streams.
        assert harness.transition('deactivate') is True
        assert wait_for(lambda: harness.publisher.get_subscription_count() == 0, 10)
        harness.status()                      # settled: the node has reported since
        cpu, sent = cpu_seconds(node.proc.pid), camera.sent
        assert harness.publishes_nothing()
        assert camera.sent - sent >= 10       # the camera streamed all along
        assert cpu_seconds(node.proc.pid) - cpu < 0.5, 'the node kept working while inactive'
        assert harness.status()[1] == 'inactive: no inference until activated'
        # Active again: resumes.
        assert harness.transition('activate') is True
        # The streaming camera's frames replace any one frame of ours where it waits:
        # resuming means its frames are segmented again.
        assert harness.wait_for_outputs(2, timeout=20) >= 2
        # Cleanup releases the model; configure and activate work again after it.
        assert harness.transition('deactivate') and harness.transition('cleanup')
        assert harness.state() == 'unconfigured'
        assert harness.set_parameters(overlay_alpha=0.3)[0].successful
        assert harness.transition('configure') and harness.transition('activate')
        harness.send(harness.frame(bird_bgr, 'bgr8', 'reconfigured'), timeout=10.0)
        # Shutdown from active: finalized, and the process still exits cleanly.
        assert harness.transition('shutdown') is True
        assert node.proc.wait(timeout=10) == 0   # finalized: the node has no more to do
        before = len(harness.received['label_map'])
        assert wait_for(lambda: harness.publisher.get_subscription_count() == 0, 10)
        assert len(harness.received['label_map']) == before


@pytest.mark.parametrize('state', ['unconfigured', 'inactive'])
def test_shutdown_from_any_state(pascal_model, state):
    node = RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-r', '__node:=down',
                       '-p', 'autostart:=false', '-p', f'model_path:={pascal_model}'])
    with harnessed(node, 'down', outputs=()) as harness:
        if state == 'inactive':
            assert harness.transition('configure')
        assert harness.transition('shutdown') is True
        assert node.proc.wait(timeout=10) == 0   # finalized: it exits by itself


def test_devices_and_fifos_are_refused_at_configure(pascal_model, tmp_path):
    """Hardening II, 10: /dev/zero as the model took 3 GB; a FIFO as labels hung configure."""
    node = RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-r', '__node:=loader',
                       '-p', 'autostart:=false', '-p', 'model_path:=/dev/zero'])
    with harnessed(node, 'loader', outputs=()) as harness:
        assert harness.transition('configure') is False      # at once, not a 3 GB read
        assert node.wait_for_output('/dev/zero is not a regular file (a device, FIFO or '
                                    'socket)', timeout=10), node.output
        fifo = tmp_path / 'labels.fifo'
        os.mkfifo(fifo)
        assert all(r.successful for r in harness.set_parameters(
            model_path=str(pascal_model), labels_file=str(fifo)))
        assert harness.transition('configure') is False      # a FIFO would block forever
        assert node.wait_for_output('labels file', timeout=10)
        assert harness.set_parameters(labels_file='')[0].successful
        assert harness.transition('configure') is True
        assert harness.state() == 'inactive'


def test_diagnostics_say_idle_without_subscribers_and_error_on_a_stall(pascal_model,
                                                                       bird_bgr):
    with running_node(pascal_model, 'qos:=reliable', name='watched', outputs=()) as (
            node, idle):
        with Camera(idle, bird_bgr):
            idle.wait_for_subscriber()
            level, message, values = idle.wait_for_status(
                lambda level, message, values: not message.startswith('waiting'))
            assert (level, values['frames_published']) == (0, '0')
            assert message.startswith('idle: nobody subscribes to an output ('), message
        # Someone subscribes, frames keep coming, but none can be segmented: an error.
        listener = Harness('watched', image='/watched/camera')
        try:
            with Camera(listener, bird_bgr[:64, :64], encoding='bayer_rggb8'):
                level, message, _ = listener.wait_for_status(
                    lambda level, message, values: level == 2, timeout=15)
                assert message.startswith('no output for') and 'bad' in message, message
        finally:
            listener.close()
