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
``image``. Each segmented frame is handed over (``submit``, which never
waits) to a thread of the cloud's own, which pairs it with the depth frame
nearest in stamp (``depth_input.py``), waiting for one still in flight, and
builds (``engine/point_cloud.py``) and publishes the cloud: the image outputs
never wait for depth. Depth and camera_info are read by a thread of their own
too (``ros/unserved.py``). Nothing is built while nobody subscribes to
``~/points``. The cloud has the depth image's frame_id (the optical frame)
and the color frame's stamp, the same stamp as the label map and the
confidence of that frame.
"""

import threading

from deeplab_ros.engine.point_cloud import CloudBuilder, depth_in_metres, Intrinsics, \
    MAX_CLOUD_POINTS
from deeplab_ros.pipeline.cdr import serialize_point_cloud
from deeplab_ros.pipeline.depth_input import DepthInput
from deeplab_ros.ros.image_encoding import depth_to_array, image_view
from deeplab_ros.ros.qos import image_qos, matching_reliability
from deeplab_ros.ros.unserved import NEVER_EXECUTED, subscriber_count, TopicReader
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, PointCloud2

# How long a segmented frame waits for its depth frame to arrive (the depth may be
# delayed like any message; the image outputs do not wait for it).
DEPTH_WAIT = 1.0


class CloudOutput:
    """The depth and camera_info inputs, the cloud thread and ``~/points`` of one camera."""

    def __init__(self, node, qos, prefix, warn):
        self._node = node
        self._warn = warn
        self.publisher = node.create_lifecycle_publisher(PointCloud2, f'~/{prefix}points', qos,
                                                         callback_group=NEVER_EXECUTED)
        self.depth = DepthInput()
        self._builder = CloudBuilder()  # its buffers are reused: the cloud thread's alone
        self._reader = None     # the depth and camera_info subscriptions
        self._reliability = None
        self.problem = None     # why the last frame had no cloud, for the diagnostics
        self.clouds = 0         # clouds built (none while nobody subscribes)
        self.depth_topic = node.resolve_topic_name(prefix + 'depth')
        self.info_topic = node.resolve_topic_name(prefix + 'camera_info')
        self._cond = threading.Condition()
        self._pending = None    # the newest segmented frame waiting for its cloud
        self._thread = None
        self._stopping = False

    @property
    def wanted(self):
        return subscriber_count(self.publisher) > 0

    def subscribe(self, reliability):
        """Subscribe depth with ``reliability``, camera_info best effort (matches all)."""
        self.unsubscribe()
        # Read by a thread of their own: re-subscribing while the node spins is then safe.
        self._reader = TopicReader(self._node, [
            (Image, self.depth_topic, image_qos(reliability), self._on_depth, True),
            (CameraInfo, self.info_topic, QoSProfile(
                depth=1, reliability=ReliabilityPolicy.BEST_EFFORT), self._on_camera_info, False)],
            self._warn, name='deeplab_depth')
        self._reliability = reliability
        with self._cond:
            self._stopping = False
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name='deeplab_cloud', daemon=True)
            self._thread.start()

    def match_publisher_qos(self):
        """With ``qos: auto``: follow the depth camera's reliability, as the image follows its."""
        publishers = self._node.get_publishers_info_by_topic(self.depth_topic)
        if publishers:
            wanted = matching_reliability(publishers)
            if wanted != self._reliability:
                self.subscribe(wanted)

    def unsubscribe(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._reliability = None
        with self._cond:
            self._stopping, self._pending = True, None
            self._cond.notify_all()
        self.depth.interrupt()  # a frame waiting for its depth: the join below is at once
        if self._thread is not None:
            self._thread.join(DEPTH_WAIT + 1.0)  # a build in progress ends within that
            self._thread = None

    def destroy(self):
        self.unsubscribe()
        self._node.destroy_lifecycle_publisher(self.publisher)

    def _on_depth(self, raw):
        # Wire data: anything unreadable or too large is counted and skipped, never raised
        # into the executor.
        try:
            view = image_view(raw)
            # Refused before it is kept: no cloud may have more points (every depth
            # camera's own resolution is below it).
            if view.width * view.height > MAX_CLOUD_POINTS:
                raise ValueError(f'a {view.width}x{view.height} depth frame is over the '
                                 f'{MAX_CLOUD_POINTS} pixels a cloud is built from: not kept')
        except ValueError as err:
            self.depth.refuse()
            self._fail(f'depth frame refused: {err}', kind=f'{self.depth_topic} refused')
            return
        self.depth.add(view.header.nanoseconds, view, len(raw))

    def _on_camera_info(self, msg):
        self.depth.set_camera_info(msg.k, msg.width, msg.height)

    def submit(self, header, labels, colormap, settings):
        """Hand a segmented frame to the cloud thread (a frame still waiting is replaced)."""
        with self._cond:
            self._pending = (header, labels, colormap, settings)
            self._cond.notify_all()

    def _run(self):
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                frame, self._pending = self._pending, None
            try:
                self._publish(*frame)
            except Exception as err:  # noqa: B902  a bad frame must not end the thread
                self._fail(f'{type(err).__name__}: {err}', kind='cloud failed')

    def _publish(self, header, labels, colormap, settings):
        """Build and publish the cloud of one segmented frame; False (and ``problem``) if none."""
        if self.depth.camera_info is None:
            return self._fail(f'no camera_info on {self.info_topic} yet: no cloud')
        view = self.depth.match(header.nanoseconds, settings.depth_tolerance, DEPTH_WAIT)
        if view is None:
            return self._fail(f'no depth frame on {self.depth_topic} within '
                              f"{settings.depth_tolerance} s of the color frame's stamp"
                              + self._qos_hint())
        k, width, height = self.depth.camera_info
        try:
            depth = depth_in_metres(depth_to_array(view), view.encoding)
            points = self._builder.points(
                depth, labels, Intrinsics.from_k(k, width, height), colormap,
                settings.cloud_stride, list(settings.cloud_ids) or None, settings.min_depth,
                settings.max_depth, organized=settings.cloud_organized)
        except ValueError as err:  # AlignmentError, ImageError, CloudSizeError: one line
            return self._fail(str(err), kind=getattr(err, 'kind', 'cloud'))
        frame_id = view.header.frame_id
        if not frame_id:
            self._warn(f'{self.depth_topic} frame_id',
                       f'depth frames on {self.depth_topic} have an empty frame_id: '
                       f"{self.publisher.topic_name} uses the color frame's, "
                       f'{header.frame_id!r}')
            frame_id = header.frame_id
        self.publisher.publish(serialize_point_cloud(header, points, frame_id))
        self.clouds += 1
        self.problem = None
        return True

    def _qos_hint(self):
        """Say so when the depth publishers cannot reach this subscription (reliability)."""
        publishers = self._node.get_publishers_info_by_topic(self.depth_topic)
        if not publishers:
            return f' (nobody publishes on {self.depth_topic})'
        if (self._reliability == ReliabilityPolicy.RELIABLE
                and matching_reliability(publishers) == ReliabilityPolicy.BEST_EFFORT):
            return (': its publisher is best effort and this node subscribes reliable, so no '
                    'depth frame arrives (use qos: auto, or a reliable depth publisher)')
        return ''

    def _fail(self, problem, kind='cloud'):
        self.problem = problem
        self._warn(kind, f'{self.publisher.topic_name}: {problem}')
        return False

    def report(self, span):
        values = self.depth.report(span)
        values.update(clouds_published=self.clouds, cloud_problem=self.problem or '',
                      depth_topic=self.depth_topic)
        return values
