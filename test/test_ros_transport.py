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

"""Smoke test: a sensor_msgs/Image crosses real DDS between two processes intact."""

from conftest import spin_until
import numpy as np
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

pytestmark = pytest.mark.ros

PUBLISHER = """
import sys, numpy as np, rclpy
from rclpy.executors import ExternalShutdownException
from sensor_msgs.msg import Image

rclpy.init()
node = rclpy.create_node('pattern_publisher')
pub = node.create_publisher(Image, 'pattern', 1)
msg = Image(height=480, width=640, encoding='rgb8', step=640 * 3)
msg.header.frame_id = 'pattern_frame'
msg.data = (np.arange(480 * 640 * 3, dtype=np.uint32) * 7 % 251).astype(np.uint8).tobytes()
node.create_timer(0.1, lambda: pub.publish(msg))
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    node.destroy_node()
    rclpy.try_shutdown()
"""


def expected_pattern():
    return (np.arange(480 * 640 * 3, dtype=np.uint32) * 7 % 251).astype(np.uint8)


def test_image_round_trip_between_processes(ros_context, ros_process):
    publisher = ros_process(['-c', PUBLISHER])
    node = rclpy.create_node('pattern_listener', context=ros_context)
    received = []
    node.create_subscription(
        Image, 'pattern', received.append,
        QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    assert spin_until(node, lambda: received, timeout=20), publisher.stop()[1]
    msg = received[0]
    assert (msg.height, msg.width, msg.encoding, msg.step) == (480, 640, 'rgb8', 1920)
    assert msg.header.frame_id == 'pattern_frame'
    payload = np.frombuffer(msg.data, dtype=np.uint8)
    assert np.array_equal(payload, expected_pattern())
    code, output = publisher.stop()
    assert code == 0, output
    node.destroy_node()
