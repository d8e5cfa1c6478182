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
``~/points``: the labeled point cloud from depth registered to the color image (``cloud: true``).

Subscribes ``depth`` (16UC1 mm or 32FC1 m, registered to the color image) and
``camera_info`` (the color camera's), both relative names to remap like
``image``. Each segmented frame is paired with the depth frame nearest in stamp
(``depth_input.py``), and the cloud (``engine/point_cloud.py``) is built and
published only while someone subscribes to ``~/points``: with nobody
subscribed a depth frame costs no more than its arrival, and no cloud is made.
The cloud has the depth image's frame_id (the optical frame) and the color
frame's stamp.
"""

from deeplab_ros.engine.point_cloud import AlignmentError, depth_in_metres, Intrinsics, \
    labeled_points
from deeplab_ros.node.depth_input import DepthInput
from deeplab_ros.node.image_cdr import serialize_point_cloud
from deeplab_ros.node.image_encoding import depth_to_array, image_view
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, PointCloud2


class CloudOutput:
    """The depth and camera_info inputs and the ``~/points`` publisher of one node."""

    def __init__(self, node, qos, prefix, warn):
        self._node = node
        self._qos = qos
        self._warn = warn
        self.publisher = node.create_lifecycle_publisher(PointCloud2, f'~/{prefix}points', qos)
        self.depth = DepthInput()
        self._subscriptions = []
        self.problem = None     # why the last frame had no cloud, for the diagnostics
        self.clouds = 0         # clouds built (none while nobody subscribes)
        self.depth_topic = node.resolve_topic_name(prefix + 'depth')
        self.info_topic = node.resolve_topic_name(prefix + 'camera_info')

    @property
    def wanted(self):
        return self.publisher.get_subscription_count() > 0

    def subscribe(self, reliability):
        """Subscribe depth with the camera's reliability, camera_info best effort (matches all)."""
        self.unsubscribe()
        depth_qos = QoSProfile(depth=1, reliability=reliability, history=self._qos.history,
                               durability=self._qos.durability)
        self._subscriptions = [
            self._node.create_subscription(Image, self.depth_topic, self._on_depth, depth_qos, raw=True),
            self._node.create_subscription(
                CameraInfo, self.info_topic, self._on_camera_info,
                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))]

    def unsubscribe(self):
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._subscriptions = []

    def destroy(self):
        self.unsubscribe()
        self._node.destroy_lifecycle_publisher(self.publisher)

    def _on_depth(self, raw):
        if not self.wanted:  # no cloud wanted: the frame is not kept
            self.depth.add_unused()
            return
        view = image_view(raw)
        self.depth.add(view.header.nanoseconds, view)

    def _on_camera_info(self, msg):
        self.depth.set_camera_info(msg.k, msg.width, msg.height)

    def publish(self, header, labels, colormap, settings):
        """Build and publish the cloud of one segmented frame; False (and ``problem``) if none."""
        if self.depth.camera_info is None:
            return self._fail(f'no camera_info on {self.info_topic} yet: no cloud')
        view = self.depth.match(header.nanoseconds, settings.depth_tolerance)
        if view is None:
            return self._fail(f'no depth frame on {self.depth_topic} within '
                              f"{settings.depth_tolerance} s of the color frame's stamp")
        k, width, height = self.depth.camera_info
        try:
            depth = depth_in_metres(depth_to_array(view), view.encoding)
            points = labeled_points(
                depth, labels, Intrinsics.from_k(k, width, height), colormap,
                settings.cloud_stride, list(settings.cloud_ids) or None, settings.min_depth,
                settings.max_depth)
        except ValueError as err:  # AlignmentError, ImageError: one clear warning
            return self._fail(str(err), kind=getattr(err, 'kind', AlignmentError.kind))
        frame_id = view.header.frame_id
        self.publisher.publish(serialize_point_cloud(header, points, frame_id))
        self.clouds += 1
        self.problem = None
        return True

    def _fail(self, problem, kind='cloud'):
        self.problem = problem
        self._warn(kind, f'{self.publisher.topic_name}: {problem}')
        return False

    def report(self, span):
        values = self.depth.report(span)
        values.update(clouds_published=self.clouds, cloud_problem=self.problem or '',
                      depth_topic=self.depth_topic)
        return values
