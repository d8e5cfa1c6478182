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
A stand-in for Nav2's semantic segmentation layer, for the tests: joins as it does.

Subscribes ``<node>/label_map``, ``<node>/confidence`` and ``<node>/points``
best effort (sensor-data QoS) and joins them on identical stamps, as
``message_filters::TimeSynchronizer`` does, and ``<node>/label_info`` reliable
and transient local. Runs for the given seconds, then prints one JSON line:
how many label maps arrived, how many joined, and what LabelInfo said.
"""

import json
import sys
import time

import rclpy
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2


def main():
    node_name, seconds = sys.argv[1], float(sys.argv[2])
    rclpy.init()
    node = rclpy.create_node('semantic_layer_stand_in')
    stamps = {'label_map': set(), 'confidence': set(), 'points': set()}
    shapes = set()

    def keep(topic):
        def record(msg):
            stamps[topic].add((msg.header.stamp.sec, msg.header.stamp.nanosec))
            if topic == 'points':
                shapes.add((msg.height, msg.width, msg.is_dense))
        return record
    for topic, kind in (('label_map', Image), ('confidence', Image), ('points', PointCloud2)):
        node.create_subscription(kind, f'/{node_name}/{topic}', keep(topic),
                                 qos_profile_sensor_data)
    labels = []
    try:
        from vision_msgs.msg import LabelInfo
        node.create_subscription(
            LabelInfo, f'/{node_name}/label_info', labels.append,
            QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL))
    except ImportError:
        pass
    print('ready', flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)
    joined = stamps['label_map'] & stamps['confidence'] & stamps['points']
    print(json.dumps({
        'label_maps': len(stamps['label_map']), 'joined': len(joined),
        'clouds': sorted(shapes),
        'classes': [(c.class_id, c.class_name) for c in labels[0].class_map] if labels else None,
        'threshold': labels[0].threshold if labels else None}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
