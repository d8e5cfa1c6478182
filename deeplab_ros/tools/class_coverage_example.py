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
Example consumer of ``~/class_mask``: how much of the view is, e.g., people.

Run the deeplab node with ``mask_classes: [person]``, then
``ros2 run deeplab_ros class_coverage_example``. It publishes the covered
fraction (0..1) on ``~/coverage`` and logs where the class is, a starting
point for "stop when a person is close" or "drive where the floor is".
"""

import sys

from deeplab_ros.ros.ros_main import run_node
import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Float32


class ClassCoverage(Node):
    """Turns each binary class mask into a coverage fraction and a centroid."""

    def __init__(self, **kwargs):
        super().__init__('class_coverage', **kwargs)
        self._pub = self.create_publisher(Float32, '~/coverage', 10)
        # Reliable like the deeplab node's outputs (large best-effort messages get lost
        # between processes with the stock Fast DDS settings); depth 1: newest mask only.
        self.create_subscription(Image, '/deeplab/class_mask', self._on_mask,
                                 QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))

    def _on_mask(self, msg):
        if msg.encoding != 'mono8':
            self.get_logger().warning(f'expected a mono8 class mask, got {msg.encoding}',
                                      throttle_duration_sec=5.0)
            return
        rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
        marked = rows[:, :msg.width] > 0
        coverage = float(marked.mean())
        self._pub.publish(Float32(data=coverage))
        if coverage > 0:
            ys, xs = np.nonzero(marked)
            self.get_logger().info(
                f'class covers {coverage:.1%} of the view, centred at '
                f'x={xs.mean() / msg.width:.2f}, y={ys.mean() / msg.height:.2f}',
                throttle_duration_sec=1.0)


def main(args=None):
    return run_node(ClassCoverage, args)


if __name__ == '__main__':
    sys.exit(main())
