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
The rate parameter over DDS, and the diagnostics that explain what the node does.

Rate changes apply at once and absurd rates are refused; a rate-limited or
silent camera is told as such, and so is sim time without /clock. The test
camera streams at 10 Hz.
"""

import cv2
from node_harness import Camera, running_node
import pytest

pytestmark = pytest.mark.ros


def test_rate_changes_apply_at_once_and_absurd_rates_are_refused(pascal_model, bird_bgr):
    with running_node(pascal_model, name='paced') as (node, harness):
        harness.wait_for_subscriber()
        with Camera(harness, cv2.resize(bird_bgr, (320, 240))):
            assert harness.wait_for_outputs(3) >= 3
            refused = harness.set_parameters(rate=1e-12)[0]
            assert not refused.successful
            assert refused.reason == ('rate must be 0 (every frame) or at least 0.01 Hz, '
                                      'got 1e-12')
            assert harness.set_parameters(rate=0.01)[0].successful  # one frame every 100 s
            # The frames already taken (up to one per stage) come out first: wait for two
            # reports with the same count (never, were the camera's 10 Hz still served).
            counts = []
            harness.wait_for_status(lambda level, message, values: counts.append(
                values.get('frames_published')) or counts[-2:-1] == counts[-1:])
            assert harness.publishes_nothing()
            assert harness.set_parameters(rate=10.0)[0].successful
            assert harness.wait_for_outputs(3, timeout=10) >= 3  # the 100 s wait cut short
            assert harness.status()[0] == 0
    assert 'OverflowError' not in node.output


def test_diagnostics_tell_rate_limits_silent_cameras_and_a_finalized_node(pascal_model,
                                                                          bird_bgr):
    """Hardening II, 3: input counted only when a frame was taken made them say OK, wrongly."""
    with running_node(pascal_model, 'rate:=0.25', 'qos:=reliable', name='honest') as (
            node, harness):
        harness.wait_for_subscriber()
        with Camera(harness, cv2.resize(bird_bgr, (320, 240))):  # 10 Hz, far above the rate
            statuses = []
            while len(statuses) < 6:
                status = harness.status(timeout=5)
                if not status[1].startswith('waiting'):
                    statuses.append(status)
        messages = [message for _, message, _ in statuses]
        rates = [float(values['input_rate_hz']) for _, _, values in statuses]
        assert sum(m.startswith('rate-limited to 0.25 Hz: ') for m in messages) >= 4, messages
        assert min(rates[2:]) > 4.0, rates                # about 10 Hz, never 0
        level, message, _ = harness.wait_for_status(
            lambda level, message, values: level == 1, timeout=15)
        assert message.startswith('no frame from /honest/camera for ') and \
            message.endswith('(it was streaming: is the camera still running?)')
        # Shut down through the lifecycle: the process ends by itself, cleanly.
        assert harness.transition('shutdown') is True
        node.proc.wait(timeout=10)
        assert node.proc.returncode == 0


def test_sim_time_without_a_clock_still_subscribes_and_says_why(pascal_model, bird_bgr):
    """Hardening II, 4: with ROS-time timers, no /clock meant no subscription and silence."""
    # qos auto (the default): its timer must run for the camera to be subscribed.
    with running_node(pascal_model, 'use_sim_time:=true', name='simtime') as (node, harness):
        level, message, _ = harness.wait_for_status(
            lambda level, message, values: 'no /clock' in message, timeout=15)
        assert level == 1
        harness.wait_for_subscriber()              # the camera came after activation
        frame = harness.frame(cv2.resize(bird_bgr, (320, 240)), 'bgr8', 'no-clock')
        assert harness.send(frame)['label_map'].header.frame_id == 'no-clock'
