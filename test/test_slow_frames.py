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
A model call that takes seconds on one frame: no second inference thread, a prompt Ctrl-C.

The real node over DDS, its model slowed down on a marked frame by an injected loader.
"""

import time

from conftest import BIRD, RosProcess
from node_harness import harnessed
import numpy as np
import pytest

pytestmark = pytest.mark.ros

# The real node with a model whose call on a frame marked slow (a red first pixel)
# takes SLOW seconds, and the node's deactivate wait scaled down from 10 s to 1 s.
SLOW_NODE = """
import sys, time
from deeplab_ros.node import deeplab_node
from deeplab_ros.pipeline import health
deeplab_node.STOP_TIMEOUT = 1.0
health.STUCK_AFTER = 1.0

def load(*args, **kwargs):
    model = deeplab_node.load_model(*args, **kwargs)
    predict = model.predict
    def slow_predict(batch):
        if tuple(batch[0, 0, 0]) == (255, 0, 0):
            time.sleep(float(sys.argv[1]))
        return predict(batch)
    model.predict = slow_predict
    return model
sys.exit(deeplab_node.main(sys.argv[2:], load=load))
"""
SLOW = 8.0


def slow_node(model, name):
    return RosProcess(['-c', SLOW_NODE, str(SLOW), '--ros-args', '-r', f'__node:={name}',
                       '-r', f'image:=/{name}/camera', '-p', f'model_path:={model}',
                       '-p', 'qos:=reliable'])


def stuck_in_infer(node, harness, bird):
    """Send a frame the slow model takes SLOW s over; return its status once it is in infer."""
    assert node.wait_for_output('active: segmenting', timeout=60), node.output
    harness.wait_for_subscriber()
    harness.send(harness.frame(bird, 'bgr8', 'warm'))
    marked = bird.copy()
    marked[0, 0] = (0, 0, 255)  # bgr: red, the slow one
    harness.publisher.publish(harness.frame(marked, 'bgr8', 'slow'))
    return harness.wait_for_status(
        lambda level, message, values: 'infer stage' in message, timeout=10)


def test_a_slow_frame_never_gets_a_second_inference_thread(pascal_model, bird_bgr):
    """Hardening II, 1: before, deactivate/activate during it ran two, then SIGSEGV."""
    node = slow_node(pascal_model, 'slowpoke')
    with harnessed(node, 'slowpoke', image='/slowpoke/camera') as harness:
        level, message, _ = stuck_in_infer(node, harness, bird_bgr)
        assert level == 2 and message.startswith('active: one frame has been in the infer')
        started = time.monotonic()
        assert harness.transition('deactivate') is True
        assert time.monotonic() - started < 3.0
        assert harness.transition('activate') is False   # refused, with the reason logged
        assert node.wait_for_output('cannot activate: the last frame is still in infer')
        harness.wait_for_status(                         # the slow call ends meanwhile
            lambda level, message, values: message == 'inactive: no inference until activated',
            timeout=SLOW + 20)
        assert harness.transition('activate') is True
        got = harness.send(harness.frame(bird_bgr, 'bgr8', 'after'))['label_map']
        assert (np.frombuffer(got.data, np.uint8) == BIRD).mean() > 0.15
    assert 'reference to internal' not in node.output


def test_ctrl_c_during_a_slow_frame_exits_at_once(pascal_model, bird_bgr):
    """Hardening II, 11: it waited for the frame, 10.6 s, against the README's 'a couple'."""
    node = slow_node(pascal_model, 'ctrlc')
    with harnessed(node, 'ctrlc', image='/ctrlc/camera') as harness:
        stuck_in_infer(node, harness, bird_bgr)
        started = time.monotonic()
        code, output = node.stop()
        assert time.monotonic() - started < 3.0 and code == 0, output
