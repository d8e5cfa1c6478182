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
vision_msgs/LabelInfo with the class names, and the fallback without vision_msgs.

The venvs have no vision_msgs wheel: `make venv` builds test/msgs/vision_msgs into
them, so on a stack with rclpy the message is real and crosses real DDS here.
"""

import sys

from conftest import spin_until
from deeplab_ros.engine.datasets import get_dataset
from deeplab_ros.node.label_info import label_info_message, LABEL_INFO_UNAVAILABLE
import pytest

NOT_BUILT = ('vision_msgs cannot be imported: `make venv` builds it into the venv '
             '(test/msgs/build_into_venv.sh)')
# vision_msgs 4.x's LabelInfo as a ROS 2 type hash: a subscriber built with the real package
# (Nav2's layer) matches ours only if the fields are the same.
VISION_MSGS_4_LABEL_INFO_HASH = (
    'RIHS01_3d37df4015cdf660cc851c51897f2acd957e1ca6205ba0a99aebffb9406b0783')

# The node's way of running: run_node spins until the test's SIGINT.
PUBLISHER = """
import sys
from builtin_interfaces.msg import Time
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from deeplab_ros.engine.datasets import get_dataset
from deeplab_ros.node.label_info import label_info_message
from deeplab_ros.ros.ros_main import run_node
from vision_msgs.msg import LabelInfo


def publishing_node():
    node = rclpy.create_node('label_info_publisher')
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_publisher(LabelInfo, 'label_info', latched).publish(label_info_message(
        list(get_dataset('pascal').class_names), Time(sec=1234, nanosec=5678)))
    print('published', flush=True)
    return node


sys.exit(run_node(publishing_node))
"""


@pytest.mark.ros
def test_a_late_subscriber_gets_every_pascal_class(ros_context, ros_process):
    import rclpy
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    try:
        from vision_msgs.msg import LabelInfo
    except ImportError:
        pytest.fail(NOT_BUILT)

    publisher = ros_process(['-c', PUBLISHER])
    assert publisher.wait_for_output('published'), publisher.stop()[1]
    # Subscribed only after the one message was sent: transient local delivers it anyway.
    node = rclpy.create_node('label_info_listener', context=ros_context)
    received = []
    node.create_subscription(LabelInfo, 'label_info', received.append, QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL))
    assert spin_until(node, lambda: received, timeout=20), publisher.stop()[1]

    message = received[0]
    assert [(c.class_id, c.class_name) for c in message.class_map] == list(
        enumerate(get_dataset('pascal').class_names))
    assert len(message.class_map) == 21 and message.class_map[15].class_name == 'person'
    assert message.threshold == 0.0
    assert (message.header.stamp.sec, message.header.stamp.nanosec) == (1234, 5678)
    [info] = node.get_publishers_info_by_topic('label_info')
    assert info.topic_type == 'vision_msgs/msg/LabelInfo'
    if hasattr(info, 'topic_type_hash'):  # Humble has no type hashes
        assert str(info.topic_type_hash) == VISION_MSGS_4_LABEL_INFO_HASH
    node.destroy_node()
    code, output = publisher.stop()
    assert code == 0, output


@pytest.mark.ros
def test_without_a_stamp_the_header_is_zero():
    message = label_info_message(['road', 'sidewalk'])
    assert message is not None, NOT_BUILT
    assert [(c.class_id, c.class_name) for c in message.class_map] == [
        (0, 'road'), (1, 'sidewalk')]
    assert (message.header.stamp.sec, message.header.stamp.nanosec) == (0, 0)


def test_without_vision_msgs_there_is_no_message(monkeypatch):
    # None in sys.modules makes `import vision_msgs` raise ImportError, as where it is missing.
    monkeypatch.setitem(sys.modules, 'vision_msgs', None)
    monkeypatch.setitem(sys.modules, 'vision_msgs.msg', None)
    assert label_info_message(list(get_dataset('pascal').class_names)) is None
    assert 'vision_msgs' in LABEL_INFO_UNAVAILABLE and '~/labels' in LABEL_INFO_UNAVAILABLE
