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

"""Hardening II over DDS: a slow frame, silent cameras, sim time, warning floods, shutdown."""

import time

from conftest import RosProcess
import cv2
from node_harness import Harness, start_node
import numpy as np
import pytest
from test_lifecycle import Camera

pytestmark = pytest.mark.ros

# The real node with a model whose call on a frame marked slow (a red first pixel)
# takes SLOW seconds, and the node's deactivate wait scaled down from 10 s to 1 s.
SLOW_NODE = """
import sys, time
from deeplab_ros.node import deeplab_node, stats
deeplab_node.STOP_TIMEOUT = 1.0
stats.STUCK_AFTER = 1.0
real_load = deeplab_node.load_model

def load(*args, **kwargs):
    model = real_load(*args, **kwargs)
    predict = model.predict
    def slow_predict(batch):
        if tuple(batch[0, 0, 0]) == (255, 0, 0):
            time.sleep(float(sys.argv[1]))
        return predict(batch)
    model.predict = slow_predict
    return model
deeplab_node.load_model = load
sys.exit(deeplab_node.main(sys.argv[2:]))
"""
SLOW = 8.0


def slow_node(model, name):
    return RosProcess(['-c', SLOW_NODE, str(SLOW), '--ros-args', '-r', f'__node:={name}',
                       '-r', f'image:=/{name}/camera', '-p', f'model_path:={model}',
                       '-p', 'qos:=reliable'])


def test_a_slow_frame_never_gets_a_second_inference_thread(pascal_model, data_dir):
    """Hardening II, 1: before, deactivate/activate during it ran two, then SIGSEGV."""
    bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    node = slow_node(pascal_model, 'slowpoke')
    harness = Harness('slowpoke', image='/slowpoke/camera')
    try:
        assert node.wait_for_output('active: segmenting', timeout=60), node.output
        harness.wait_for_subscriber()
        harness.send(harness.frame(bird, 'bgr8', 'warm'))
        marked = bird.copy()
        marked[0, 0] = (0, 0, 255)  # bgr: red, the slow one
        harness.publisher.publish(harness.frame(marked, 'bgr8', 'slow'))
        level, message, _ = harness.wait_for_status(
            lambda level, message, values: 'infer stage' in message, timeout=10)
        assert level == 2 and message.startswith('active: one frame has been in the infer')
        started = time.monotonic()
        assert harness.transition('deactivate') is True
        assert time.monotonic() - started < 3.0
        assert harness.transition('activate') is False   # refused, with the reason logged
        assert node.wait_for_output('cannot activate: the last frame is still in infer')
        time.sleep(SLOW)                                 # the slow call ends meanwhile
        assert harness.transition('activate') is True
        got = harness.send(harness.frame(bird, 'bgr8', 'after'))['label_map']
        labels = np.frombuffer(got.data, np.uint8)
        assert (labels == 3).mean() > 0.15
    finally:
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output and 'reference to internal' not in output


def test_diagnostics_tell_rate_limits_silent_cameras_and_a_finalized_node(pascal_model,
                                                                          data_dir):
    """Hardening II, 3: input counted only when a frame was taken made them say OK, wrongly."""
    bird = cv2.resize(cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp')),
                      (320, 240))
    node = start_node(pascal_model, 'rate:=0.25', 'qos:=reliable', name='honest',
                      image='/honest/camera')
    harness = Harness('honest', image='/honest/camera')
    camera = None
    try:
        harness.wait_for_subscriber()
        camera = Camera(harness, bird)                    # 10 Hz, far above the rate
        statuses = []
        deadline = time.monotonic() + 25
        while len(statuses) < 6 and time.monotonic() < deadline:
            status = harness.status(timeout=5)
            if not status[1].startswith('waiting'):
                statuses.append(status)
        messages = [message for _, message, _ in statuses]
        rates = [float(values['input_rate_hz']) for _, _, values in statuses]
        assert sum(m.startswith('rate-limited to 0.25 Hz: ') for m in messages) >= 4, messages
        assert min(rates[2:]) > 4.0, rates                # about 10 Hz, never 0
        camera.stop()
        camera = None
        level, message, _ = harness.wait_for_status(
            lambda level, message, values: level == 1, timeout=15)
        assert message.startswith('no frame from /honest/camera for ') and \
            message.endswith('(it was streaming: is the camera still running?)')
        # Shut down through the lifecycle: the process ends by itself, cleanly.
        assert harness.transition('shutdown') is True
        node.proc.wait(timeout=10)
        assert node.proc.returncode == 0
    finally:
        if camera is not None:
            camera.stop()
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output


def test_sim_time_without_a_clock_still_subscribes_and_says_why(pascal_model, data_dir):
    """Hardening II, 4: with ROS-time timers, no /clock meant no subscription and silence."""
    bird = cv2.resize(cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp')),
                      (320, 240))
    node = start_node(pascal_model, 'use_sim_time:=true', name='simtime',
                      image='/simtime/camera')   # qos auto: its timer must run
    harness = Harness('simtime', image='/simtime/camera')
    try:
        level, message, _ = harness.wait_for_status(
            lambda level, message, values: 'no /clock' in message, timeout=15)
        assert level == 1
        harness.wait_for_subscriber()              # the camera came after activation
        got = harness.send(harness.frame(bird, 'bgr8', 'no-clock'))['label_map']
        assert got.header.frame_id == 'no-clock'
    finally:
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output


def test_a_flood_of_unique_encodings_gives_bounded_warnings(pascal_model, data_dir):
    """Hardening II, 5: each unique encoding had its own warning key (3000 warnings, 60 MB)."""
    bird = cv2.resize(cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp')),
                      (64, 48))
    node = start_node(pascal_model, 'qos:=reliable', name='flood', image='/flood/camera')
    harness = Harness('flood', image='/flood/camera')
    try:
        harness.wait_for_subscriber()
        harness.send(harness.frame(bird, 'bgr8', 'before'))
        for i in range(400):
            msg = harness.frame(bird, 'bgr8', f'odd-{i}')
            msg.encoding = f'{i:04d}' + 'x' * 2000
            harness.publisher.publish(msg)
            time.sleep(0.005)
        got = harness.send(harness.frame(bird, 'bgr8', 'after'))['label_map']
        assert got.header.frame_id == 'after'      # the next good frame is served
        warnings = [line for line in node.output.splitlines() if '[WARN]' in line]
        assert 10 < len(warnings) <= 66, len(warnings)   # 64 kinds, then one shared
        assert max(len(line) for line in warnings) < 400
    finally:
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output
