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

Also its /diagnostics verdicts: idle without subscribers, an error when
frames arrive, subscribers wait and no output comes.
"""

import os
import threading
import time

from conftest import RosProcess
import cv2
from node_harness import Harness, start_node
import numpy as np
import pytest

pytestmark = pytest.mark.ros

BIRD = 3


def cpu_seconds(pid):
    """User + system CPU time of process ``pid`` so far (from /proc)."""
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Camera:
    """Publishes ``frame`` (bgr8, or claiming ``encoding``) at 10 Hz until stopped."""

    def __init__(self, harness, frame, encoding='bgr8'):
        self.harness, self.frame, self.encoding = harness, frame, encoding
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        i = 0
        while not self._stop.wait(0.1):
            msg = self.harness.frame(self.frame, 'bgr8', f'f{i}')
            msg.encoding = self.encoding
            self.harness.publisher.publish(msg)
            i += 1

    def stop(self):
        self._stop.set()
        self._thread.join(5)


def outputs_in(harness, seconds):
    before = len(harness.received['label_map'])
    time.sleep(seconds)
    return len(harness.received['label_map']) - before


def test_every_transition_with_a_streaming_camera(pascal_model, data_dir, tmp_path):
    bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    missing = tmp_path / 'missing.tflite'
    node = RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
                       '-r', '__node:=managed',
                       '-r', 'image:=/managed/camera', '-p', 'autostart:=false',
                       '-p', f'model_path:={missing}', '-p', 'qos:=reliable'])
    harness = Harness('managed', image='/managed/camera')
    camera = Camera(harness, bird)
    try:
        assert harness.state() == 'unconfigured'
        assert outputs_in(harness, 1.0) == 0
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
        assert outputs_in(harness, 1.0) == 0
        refused = harness.set_parameters(model_path=str(missing))[0]
        assert not refused.successful and 'applied at configure' in refused.reason
        # Active: outputs flow, correct ones.
        assert harness.transition('activate') is True
        harness.send(harness.frame(bird, 'bgr8', 'first'))
        assert harness.wait_for_outputs(3) >= 3
        labels = harness.received['label_map'][-1]
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
        # Deactivated: no output and (almost) no CPU while the camera streams on.
        assert harness.transition('deactivate') is True
        time.sleep(0.5)
        cpu = cpu_seconds(node.proc.pid)
        assert outputs_in(harness, 2.0) == 0
        assert cpu_seconds(node.proc.pid) - cpu < 0.5, 'the node kept working while inactive'
        assert harness.status()[1] == 'inactive: no inference until activated'
        # Active again: resumes.
        assert harness.transition('activate') is True
        harness.send(harness.frame(bird, 'bgr8', 'resumed'), timeout=5.0)
        # Cleanup releases the model; configure and activate work again after it.
        assert harness.transition('deactivate') and harness.transition('cleanup')
        assert harness.state() == 'unconfigured'
        assert harness.set_parameters(overlay_alpha=0.3)[0].successful
        assert harness.transition('configure') and harness.transition('activate')
        harness.send(harness.frame(bird, 'bgr8', 'reconfigured'), timeout=10.0)
        # Shutdown from active: finalized, and the process still exits cleanly.
        assert harness.transition('shutdown') is True
        assert node.proc.wait(timeout=10) == 0   # finalized: the node has no more to do
        assert outputs_in(harness, 1.0) == 0
    finally:
        camera.stop()
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output


@pytest.mark.parametrize('state', ['unconfigured', 'inactive'])
def test_shutdown_from_any_state(pascal_model, state):
    node = RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-r', '__node:=down',
                       '-p', 'autostart:=false', '-p', f'model_path:={pascal_model}'])
    harness = Harness('down', outputs=())
    try:
        if state == 'inactive':
            assert harness.transition('configure')
        assert harness.transition('shutdown') is True
        assert node.proc.wait(timeout=10) == 0   # finalized: it exits by itself
    finally:
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output


def test_diagnostics_say_idle_without_subscribers_and_error_on_a_stall(pascal_model, data_dir):
    bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    node = start_node(pascal_model, 'qos:=reliable', name='watched', image='/watched/camera')
    idle = Harness('watched', image='/watched/camera', outputs=())
    camera = Camera(idle, bird)
    try:
        idle.wait_for_subscriber()
        level, message, values = idle.wait_for_status(
            lambda level, message, values: not message.startswith('waiting'))
        assert (level, values['frames_published']) == (0, '0')
        assert message.startswith('idle: nobody subscribes to an output ('), message
        camera.stop()
        # Someone subscribes, frames keep coming, but none can be segmented: an error.
        listener = Harness('watched', image='/watched/camera')
        stalled = Camera(listener, bird[:64, :64], encoding='bayer_rggb8')
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                level, message, _ = listener.status()
                if level == 2:
                    break
            assert level == 2 and message.startswith('no output for'), message
            assert 'bad' in message
        finally:
            stalled.stop()
            listener.close()
    finally:
        camera.stop()
        idle.close()
        node.stop()
