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
The class names as a ``vision_msgs/LabelInfo``, where vision_msgs is installed.

Nav2's semantic segmentation layer reads the names of the label map's ids from
it (reliable, transient local). vision_msgs comes with a ROS install
(rosdep), but has no wheel: a venv of PyPI's ROS wheels goes without it.
"""

import json

LABEL_INFO_UNAVAILABLE = ('vision_msgs cannot be imported (it has no PyPI wheel; a ROS install '
                          'has it through rosdep), so there is no ~/label_info: the class names '
                          'are on ~/labels as JSON')


def label_info_message(class_names: list[str], header_stamp=None):
    """
    Return a LabelInfo naming ids 0..N-1 after ``class_names``, or None without vision_msgs.

    ``header_stamp`` (a builtin_interfaces Time) stamps it; the threshold is 0: every id the
    label map holds is the model's answer, none was held back for low confidence.
    """
    try:
        from vision_msgs.msg import LabelInfo, VisionClass
    except ImportError:
        return None
    message = LabelInfo(threshold=0.0, class_map=[
        VisionClass(class_id=class_id, class_name=name)
        for class_id, name in enumerate(class_names)])
    if header_stamp is not None:
        message.header.stamp = header_stamp
    return message


def latch_labels(node, class_names, qos) -> list:
    """
    Publish the class names once, latched: JSON on ``~/labels``, LabelInfo on ``~/label_info``.

    Return the publishers (the node destroys them at cleanup). Without vision_msgs
    one INFO line says why there is no ``~/label_info``.
    """
    # Imported here: label_info_message needs no rclpy (the Humble-Python stack tests it).
    from deeplab_ros.ros.unserved import NEVER_EXECUTED
    from std_msgs.msg import String
    # Destroyed at cleanup while the node spins: never served (ros/unserved.py).
    publishers = [node.create_publisher(String, '~/labels', qos, callback_group=NEVER_EXECUTED)]
    publishers[0].publish(String(data=json.dumps(dict(enumerate(class_names)))))
    info = label_info_message(list(class_names), node.get_clock().now().to_msg())
    if info is None:
        node.get_logger().info(LABEL_INFO_UNAVAILABLE)
    else:
        publishers.append(node.create_publisher(type(info), '~/label_info', qos,
                                                callback_group=NEVER_EXECUTED))
        publishers[1].publish(info)
    return publishers
