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
A model that takes seconds to load: diagnostics and queries answer, transitions wait their turn.

The real node over DDS, its loader slowed down by an injected one.
"""

import threading
import time

from conftest import BIRD, RosProcess
import cv2
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from node_harness import harnessed
import numpy as np
import pytest

pytestmark = pytest.mark.ros


SLOW_LOAD_NODE = """
import sys, time
from deeplab_ros.node import deeplab_node

def slow_load(*args, **kwargs):
    time.sleep(6.0)  # a big model
    return deeplab_node.load_model(*args, **kwargs)
sys.exit(deeplab_node.main(sys.argv[1:], load=slow_load))
"""


def test_a_slow_configure_leaves_diagnostics_and_queries_answering(pascal_model):
    """Hardening II, 10: loading a big model blocked the executor (no diagnostics, no get)."""
    node = RosProcess(['-c', SLOW_LOAD_NODE, '--ros-args', '-r', '__node:=loader',
                       '-p', 'autostart:=false', '-p', f'model_path:={pascal_model}'])
    with harnessed(node, 'loader', outputs=()) as harness:
        # Humble and Jazzy's rclpy raise an invalid transition out of the executor,
        # which ended the node: refused now, on every release.
        request = ChangeState.Request(transition=Transition(id=Transition.TRANSITION_ACTIVATE))
        assert harness.call(harness.change_state_client, request).success is False
        assert harness.state() == 'unconfigured'  # still serving
        assert ('transition id 3 refused: not valid from state unconfigured' in node.output
                or 'Unable to start transition 3' in node.output), node.output  # Kilted's own
        configure = threading.Thread(target=harness.transition, args=('configure',))
        configure.start()
        try:
            harness.wait_for_status(lambda level, message, values: message.startswith(
                f'configuring: loading model {pascal_model}'), timeout=10)
            started = time.monotonic()
            assert harness.state() == 'configuring'
            assert time.monotonic() - started < 2.0  # answered, not after the load
            # Transitions stay one at a time: this one waits for the configure.
            assert harness.transition('activate') is True
            assert time.monotonic() - started > 1.0
        finally:
            configure.join(60)
        assert harness.state() == 'active'


def test_a_transition_asked_for_during_autostart_is_refused_not_raced(pascal_model):
    node = RosProcess(['-c', SLOW_LOAD_NODE, '--ros-args', '-r', '__node:=starter',
                       '-p', f'model_path:={pascal_model}'])
    with harnessed(node, 'starter', outputs=()) as harness:
        harness.wait_for_status(lambda level, message, values: message.startswith(
            'configuring: loading model'), timeout=10)
        started = time.monotonic()
        assert harness.transition('configure') is False
        assert time.monotonic() - started < 2.0
        assert node.wait_for_output('transition configure refused: another transition is '
                                    'in progress', timeout=5), node.output
        assert node.wait_for_output('active: segmenting', timeout=30), node.output
        assert harness.state() == 'active'


def test_class_lists_set_during_the_autostart_load_are_checked_and_applied(
        pascal_model, bird_bgr):
    """Hardening III, 12: set during the load, they were shown but not used."""
    node = RosProcess(['-c', SLOW_LOAD_NODE, '--ros-args', '-r', '__node:=relist',
                       '-r', 'image:=/relist/camera', '-p', f'model_path:={pascal_model}',
                       '-p', 'mask_classes:=[dog]'])
    with harnessed(node, 'relist', image='/relist/camera',
                   outputs=('label_map', 'class_mask')) as harness:
        harness.wait_for_status(lambda level, message, values: message.startswith(
            'configuring: loading model'), timeout=10)
        assert harness.set_parameters(mask_classes=['bird'])[0].successful
        assert node.wait_for_output('active: segmenting', timeout=30), node.output
        assert 'class_mask (mask_classes)' not in node.output
        got = harness.send(harness.frame(cv2.resize(bird_bgr, (320, 240)), 'bgr8', 'late'),
                           wanted=('label_map', 'class_mask'))
        labels, mask = (np.frombuffer(got[name].data, np.uint8).reshape(240, 320)
                        for name in ('label_map', 'class_mask'))
        assert (labels == BIRD).mean() > 0.1 and np.array_equal(mask, (labels == BIRD) * 255)
