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
The deeplab node: camera image in; label map, color mask and overlay out.

The subscription callback only keeps the newest frame. An inference thread
segments it and hands the labels to a publishing thread, so colorizing and
publishing one frame overlaps the next frame's inference, a slow model never
builds a queue, and the executor stays free for parameters and Ctrl-C.
"""

import json
import queue
import sys
import threading
import time

import cv2
from deeplab_ros.datasets import get_dataset
from deeplab_ros.image_encoding import array_to_image, decode, ImageError
from deeplab_ros.model_loading import load_model, ModelLoadError
from deeplab_ros.node_parameters import check, declare
from deeplab_ros.node_stats import NodeStats
from deeplab_ros.ros_main import run_node
from deeplab_ros.segmenter import Segmenter
from deeplab_ros.visualize import colorize, overlay
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

BAD_FRAME_LOG_PERIOD = 5.0  # seconds between warnings of the same kind
SILENT_CAMERA_WARNING = 5.0  # seconds of silence from a best-effort camera before a hint


def image_qos(reliability):
    """Image QoS: newest frame only (depth 1), volatile, with the given reliability."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)


class LatestFrame:
    """A one-slot mailbox: putting a frame replaces (and counts) an unprocessed one."""

    def __init__(self):
        self._cond = threading.Condition()
        self._frame = None

    def put(self, frame):
        """Store ``frame``; return True when it replaced one nobody took."""
        with self._cond:
            replaced = self._frame is not None
            self._frame = frame
            self._cond.notify()
        return replaced

    def take(self, timeout):
        """Return the newest frame (or None after ``timeout`` seconds)."""
        with self._cond:
            if self._frame is None:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
        return frame


class DeepLabNode(Node):
    """Segments the newest camera frame and publishes what subscribers ask for."""

    def __init__(self, **kwargs):
        super().__init__('deeplab', **kwargs)
        self._settings = declare(self)
        model_source = self._settings['model_path'] or self._settings['model_name']
        self.model = load_model(model_source, self._settings['input_tensor'],
                                self._settings['output_tensor'], self._settings['device'],
                                self._settings['num_threads'])
        self.dataset = get_dataset(
            self.model.dataset if self._settings['dataset'] == 'auto'
            else self._settings['dataset'], self._settings['labels_file'])
        self.segmenter = Segmenter(self.model, self._settings['input_size'] or None)
        self._mask_ids = self._class_ids(self._settings['mask_classes'])
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

        reliable = image_qos(ReliabilityPolicy.RELIABLE)
        self._label_pub = self.create_publisher(Image, '~/label_map', reliable)
        self._color_pub = self.create_publisher(Image, '~/color_mask', reliable)
        self._overlay_pub = self.create_publisher(Image, '~/overlay', reliable)
        self._class_mask_pub = self.create_publisher(Image, '~/class_mask', reliable)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_publisher(String, '~/labels', latched).publish(String(data=json.dumps(
            {str(i): name for i, name in enumerate(self.dataset.class_names)})))
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)

        compressed = self._settings['input_transport'] == 'compressed'
        self._msg_type = CompressedImage if compressed else Image
        self._topic = self.resolve_topic_name('image') + ('/compressed' if compressed else '')
        self._subscription = None
        self._sub_reliability = None
        self._subscribed_at = self._last_frame = None
        self._frames = LatestFrame()
        self._results = queue.Queue(maxsize=1)
        self.stats = NodeStats()
        self._warned = {}
        self._stop = threading.Event()
        if self._settings['qos'] == 'auto':
            self._match_publisher_qos()
            self.create_timer(0.5, self._match_publisher_qos)
        else:
            self._subscribe(ReliabilityPolicy.RELIABLE if self._settings['qos'] == 'reliable'
                            else ReliabilityPolicy.BEST_EFFORT)
        self.create_timer(1.0, self._publish_diagnostics)
        # Daemon threads only as a safety net: stop() joins them on every exit path.
        self._threads = [
            threading.Thread(target=self._inference_loop, name='deeplab_infer', daemon=True),
            threading.Thread(target=self._publish_loop, name='deeplab_publish', daemon=True)]
        for thread in self._threads:
            thread.start()
        size = self.model.fixed_size or f'longest side {self.segmenter.input_size}'
        self.get_logger().info(
            f'model {model_source} ({self.model.kind}), dataset {self.dataset.name} '
            f'({self.dataset.num_classes} classes), input {size}, device {self.model.device}; '
            f'subscribing {self._topic} (qos {self._settings["qos"]}), publishing '
            f'{self._label_pub.topic_name}, {self._color_pub.topic_name}, '
            f'{self._overlay_pub.topic_name}, {self._class_mask_pub.topic_name}')

    # Parameters -------------------------------------------------------------

    def _class_ids(self, names):
        return np.array([self.dataset.class_id(n) for n in names if str(n).strip()],
                        dtype=np.uint8)

    def _validate_parameters(self, params):
        try:
            values = {p.name: p.value for p in params}
            check(values)
            if 'mask_classes' in values:
                self._class_ids(values['mask_classes'])
        except ValueError as err:
            return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params):
        for param in params:
            self._settings[param.name] = param.value
            if param.name == 'mask_classes':
                self._mask_ids = self._class_ids(param.value)
            elif param.name == 'input_size':
                self.segmenter.input_size = param.value or self.model.input_size
        self.get_logger().info('parameters updated: ' + ', '.join(
            f'{p.name}={p.value}' for p in params))

    # Subscription -----------------------------------------------------------

    def _subscribe(self, reliability):
        if self._subscription is not None:
            self.destroy_subscription(self._subscription)
        self._subscription = self.create_subscription(
            self._msg_type, self._topic, self._on_image, image_qos(reliability))
        self._sub_reliability = reliability
        self._subscribed_at = time.monotonic()
        self.get_logger().info(f'subscribed to {self._topic} with '
                               f'{reliability.name.lower()} QoS')

    def _match_publisher_qos(self):
        """Follow the camera: reliable if every publisher is, else best effort."""
        publishers = self.get_publishers_info_by_topic(self._topic)
        if not publishers:
            if self._subscription is None:
                self.get_logger().info(f'waiting for a publisher on {self._topic}',
                                       once=True)
            return
        wanted = (ReliabilityPolicy.RELIABLE
                  if all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                         for p in publishers) else ReliabilityPolicy.BEST_EFFORT)
        if wanted != self._sub_reliability:
            self._subscribe(wanted)
        elif (wanted == ReliabilityPolicy.BEST_EFFORT and self._last_frame is None
              and time.monotonic() - self._subscribed_at > SILENT_CAMERA_WARNING):
            self._warn_throttled(
                'silent', f'{len(publishers)} best-effort publisher(s) on {self._topic} but '
                'no frame arrived. With the stock Fast DDS transport, best-effort frames '
                'over ~500 KB (640x480 rgb8) are lost between processes: run the camera and '
                'this node with FASTDDS_DEFAULT_PROFILES_FILE (FASTRTPS_ on Jazzy) set to '
                "this package's config/fastdds_large_images.xml, or make the camera reliable.")

    def _on_image(self, msg):
        self._last_frame = time.monotonic()
        self.stats.received()
        if self._frames.put(msg):
            self.stats.dropped()

    # Worker threads ---------------------------------------------------------

    def _warn_throttled(self, kind, text):
        """Log ``text``, at most once per BAD_FRAME_LOG_PERIOD for each kind of problem."""
        now = time.monotonic()
        if now - self._warned.get(kind, -BAD_FRAME_LOG_PERIOD) >= BAD_FRAME_LOG_PERIOD:
            self._warned[kind] = now
            self.get_logger().warning(text)

    def _wanted_outputs(self):
        s = self._settings
        return {
            'label_map': self._label_pub.get_subscription_count() > 0,
            'color_mask': s['publish_color_mask'] and self._color_pub.get_subscription_count() > 0,
            'overlay': s['publish_overlay'] and self._overlay_pub.get_subscription_count() > 0,
            'class_mask': len(self._mask_ids) > 0
            and self._class_mask_pub.get_subscription_count() > 0,
        }

    def _inference_loop(self):
        next_start = 0.0
        while not self._stop.is_set():
            rate = self._settings['rate']
            if rate > 0 and self._stop.wait(max(0.0, next_start - time.monotonic())):
                break
            msg = self._frames.take(timeout=0.1)
            if msg is None:
                continue
            wanted = self._wanted_outputs()
            if not any(wanted.values()):
                continue  # nobody listens: no inference
            next_start = time.monotonic() + (1.0 / rate if rate > 0 else 0.0)
            try:
                image, order = decode(msg)
            except ImageError as err:
                self.stats.bad_frame()
                self._warn_throttled(str(err).split(' ')[0],
                                     f'dropped a frame from {self._topic}: {err}')
                continue
            try:
                prepared = self.segmenter.prepare(image, order)
                started = time.monotonic()
                raw = self.segmenter.infer(prepared)
                self.stats.inferred(time.monotonic() - started)
            except Exception as err:  # keep serving: a model error must not kill the node
                self.stats.bad_frame()
                self._warn_throttled('inference', f'dropped a frame: inference failed: {err}')
                continue
            item = (msg.header, image, order, prepared, raw, wanted)
            while not self._stop.is_set():
                try:
                    self._results.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def _publish_loop(self):
        while not self._stop.is_set():
            try:
                item = self._results.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self._publish(*item)
            except Exception as err:  # same as above: log, keep serving
                self._warn_throttled('publish', f'publishing failed: {err}')

    def _publish(self, header, image, order, prepared, raw, wanted):
        labels = self.segmenter.finish(prepared, raw, self._settings['output_resolution'])
        if wanted['label_map']:
            self._label_pub.publish(array_to_image(labels, 'mono8', header))
        if wanted['class_mask']:
            mask = np.isin(labels, self._mask_ids).astype(np.uint8) * np.uint8(255)
            self._class_mask_pub.publish(array_to_image(mask, 'mono8', header))
        if wanted['color_mask'] or wanted['overlay']:
            color = colorize(labels, self.dataset.colormap)
            if wanted['color_mask']:
                self._color_pub.publish(array_to_image(color, 'rgb8', header))
            if wanted['overlay']:
                self._overlay_pub.publish(array_to_image(
                    self._overlay(image, order, labels, color), 'rgb8', header))
        self.stats.published(self._latency(header))

    def _overlay(self, image, order, labels, color):
        if image.shape[:2] != labels.shape:
            image = cv2.resize(image, labels.shape[::-1], interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if order == 'bgr' else image
        return overlay(np.ascontiguousarray(rgb), color, self._settings['overlay_alpha'],
                       self.dataset.background_mask(labels))

    def _latency(self, header):
        stamp = Time.from_msg(header.stamp).nanoseconds
        if stamp == 0:
            return None
        return (self.get_clock().now().nanoseconds - stamp) / 1e9

    # Diagnostics and shutdown -----------------------------------------------

    def _publish_diagnostics(self):
        report = self.stats.report()
        status = DiagnosticStatus(
            name=f'{self.get_name()}: segmentation', hardware_id=str(self.model.source),
            level=DiagnosticStatus.OK if report['ok'] else DiagnosticStatus.WARN,
            message=report['message'])
        values = {**report['values'], 'model': str(self.model.source),
                  'model_format': self.model.kind, 'device': str(self.model.device),
                  'dataset': self.dataset.name, 'input_topic': self._topic}
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def stop(self):
        """Stop and join the worker threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5.0)


def main(args=None):
    # A model that fails to load is one clear line (which file, what, the fix).
    return run_node(DeepLabNode, args, startup_errors=(ModelLoadError, ValueError),
                    cleanup=DeepLabNode.stop)


if __name__ == '__main__':
    sys.exit(main())
