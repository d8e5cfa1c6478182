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
One camera of the node: its subscription, decoding, counters, outputs and cloud.

The default camera (name '') reads ``image`` and publishes ``~/label_map``
etc.; camera ``front`` reads ``front/image`` and publishes
``~/front/label_map`` etc. (relative names: remap them like any topic).
With ``qos: auto`` the subscription follows the camera: reliable if every
publisher is, else best effort, with a hint when a best-effort camera's
frames never arrive (large frames on the stock Fast DDS transport).
"""

import time

from deeplab_ros.node.camera_subscription import SubscriptionSource
from deeplab_ros.node.cloud_output import CloudOutput
from deeplab_ros.node.image_outputs import ImageOutputs, Products
from deeplab_ros.pipeline.frame_stats import CameraStats
from deeplab_ros.ros.dds_profile import release_variable
from deeplab_ros.ros.image_encoding import compressed_to_array, header_of, image_to_array, \
    image_view
from deeplab_ros.ros.qos import image_qos, matching_reliability
from rclpy.qos import ReliabilityPolicy
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CompressedImage, Image

SILENT_CAMERA_WARNING = 5.0  # seconds of silence from a best-effort camera before a hint
RELIABILITY = {'reliable': ReliabilityPolicy.RELIABLE,
               'sensor_data': ReliabilityPolicy.BEST_EFFORT}


class CameraInput:
    """A camera's input and outputs; ``take()`` makes it a source of the frame pipeline."""

    def __init__(self, node, name: str, settings, confidence: bool, warn, on_subscribed):
        self.name = name
        self._node = node
        self._warn = warn
        self._on_subscribed = on_subscribed  # a new subscription: the pipeline's wait ends
        prefix = f'{name}/' if name else ''
        self.compressed = settings.input_transport == 'compressed'
        self.topic = node.resolve_topic_name(prefix + 'image') + (
            '/compressed' if self.compressed else '')
        reliable = image_qos(ReliabilityPolicy.RELIABLE)
        self.outputs = ImageOutputs(node, prefix, reliable, confidence)
        self.cloud = CloudOutput(node, reliable, prefix, warn) if settings.cloud else None
        self.stats = CameraStats()
        self._source = self._reliability = None
        self._subscribed_at = 0.0
        self._idle = False       # nobody wanted an output when the pipeline last asked
        self.last_frame = None   # monotonic time of the last frame taken
        self.progress_at = 0.0   # last output, idle frame or activation (stall detection)

    @property
    def subscription(self):
        source = self._source
        return source.subscription if source is not None else None

    def take(self):
        source = self._source
        return source.take() if source is not None else None

    def start(self, qos: str):
        """Begin a new activation: fresh counters; subscribe now unless QoS follows the camera."""
        self.stats = CameraStats()
        self.last_frame = None
        self.progress_at = time.monotonic()
        if qos != 'auto':
            self._subscribe(RELIABILITY[qos])

    def stop(self):
        """Unsubscribe (the pipeline has stopped): nothing arrives."""
        if self._source is not None:
            self._source.destroy()
            self._source = self._reliability = None
        if self.cloud is not None:
            self.cloud.unsubscribe()

    def destroy(self):
        self.stop()
        self.outputs.destroy()
        if self.cloud is not None:
            self.cloud.destroy()

    # Subscription ---------------------------------------------------------------

    def _subscribe(self, reliability):
        old = self._source
        self._source = SubscriptionSource(
            self._node, CompressedImage if self.compressed else Image, self.topic,
            image_qos(reliability), self._on_taken)
        if old is not None:
            old.destroy()
        if self.cloud is not None:
            self.cloud.subscribe(reliability)
        self._reliability = reliability
        self._subscribed_at = time.monotonic()
        self._on_subscribed()
        self._node.get_logger().info(f'subscribed to {self.topic} with '
                                     f'{reliability.name.lower()} QoS')

    def describe(self, settings) -> str:
        """Say what this camera subscribes and publishes, with remapped names."""
        inputs, (on, off) = [self.topic], self.outputs.topics(settings)
        if self.cloud is not None:
            inputs += [self.cloud.depth_topic, self.cloud.info_topic]
            on.append(self.cloud.publisher.topic_name)
        return (f'input {", ".join(inputs)}; outputs {", ".join(on)}'
                + (f'; off until set: {", ".join(off)}' if off else ''))

    def match_publisher_qos(self):
        """Follow the camera: reliable if every publisher is, else best effort."""
        publishers = self._node.get_publishers_info_by_topic(self.topic)
        if not publishers:
            if self._source is None:
                self._node.get_logger().info(f'waiting for a publisher on {self.topic}',
                                             once=True)
            return
        wanted = matching_reliability(publishers)
        if wanted != self._reliability:
            self._subscribe(wanted)
        if self.cloud is not None:
            self.cloud.match_publisher_qos()
        if (wanted == ReliabilityPolicy.BEST_EFFORT and self.last_frame is None
                and time.monotonic() - self._subscribed_at > SILENT_CAMERA_WARNING):
            self._warn(
                f'silent {self.topic}',
                f'{len(publishers)} best-effort publisher(s) on {self.topic} but no frame '
                'arrived. With the stock Fast DDS transport, best-effort frames over ~500 KB '
                '(640x480 rgb8) are lost between processes: run the camera and this node with '
                f"{release_variable()} set to this package's "
                'config/fastdds_large_images.xml, or make the camera reliable.')

    def _on_taken(self, arrived):
        """Count ``arrived`` frames, of which all but the one just taken were replaced unseen."""
        self.last_frame = time.monotonic()
        self.stats.arrived(arrived, unused=self._idle)

    # The frame pipeline's work for this camera ------------------------------------

    def wanted(self, settings):
        """Return ``{output: wanted}``, or None when no output is (the frame is not taken)."""
        wanted = self.outputs.wanted(settings)
        wanted['points'] = self.cloud is not None and self.cloud.wanted
        self._idle = not any(wanted.values())
        if not self._idle:
            return wanted
        self.progress_at = time.monotonic()  # idle by choice is not a stall
        return None

    def decode(self, raw):
        """Turn a serialized message into (header, HxWx3 image, color order)."""
        if not self.compressed:
            view = image_view(raw)
            return (view.header, *image_to_array(view))
        msg = deserialize_message(raw, CompressedImage)
        return (header_of(msg), *compressed_to_array(msg))

    def publish(self, job, segmenter, dataset, now_ns: int):
        """Publish a segmented frame's wanted outputs, each with this camera frame's header."""
        products = Products(job, segmenter, dataset)
        self.outputs.publish(job.header, products, job.settings, job.wanted)
        self.progress_at = time.monotonic()
        stamp = job.header.nanoseconds
        self.stats.published((now_ns - stamp) / 1e9 if stamp else None)
        if job.wanted['points']:  # built on the cloud's own thread: nothing here waits
            self.cloud.submit(job.header, products.labels, dataset.colormap, job.settings)
