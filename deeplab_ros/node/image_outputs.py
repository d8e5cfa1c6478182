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
A camera's image outputs, all from one list: a new output is one entry of ``OUTPUTS``.

An entry names the output, its encoding, how it is made from a segmented
frame (an attribute of ``Products``), the setting that switches it, and the
format of its image_transport ``<name>/compressed`` topic. ``ImageOutputs``
makes one camera's publishers from the list, tells which outputs someone
wants, and publishes a frame's: each product is made once, and only when an
output that needs it is wanted.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional, Tuple

import cv2
from deeplab_ros.engine.visualize import colorize, overlay
from deeplab_ros.pipeline.cdr import serialize_image
from deeplab_ros.ros.unserved import NEVER_EXECUTED, subscriber_count
import numpy as np
from sensor_msgs.msg import CompressedImage, Image


@dataclass(frozen=True)
class OutputSpec:
    """One image output: ``~/<camera/>name`` and, with ``compressed``, its compressed topic."""

    name: str
    encoding: str                # sensor_msgs encoding of the raw topic
    product: str                 # the Products attribute it publishes
    switch: Optional[str] = None  # the setting that turns it on (true or a non-empty list)
    compressed: Optional[Tuple[str, str]] = None  # (file suffix, CompressedImage format)
    needs_confidence: bool = False  # made from the model's class scores: not every model


OUTPUTS = (
    # PNG keeps the label map lossless: class ids survive compression.
    OutputSpec('label_map', 'mono8', 'labels',
               compressed=('.png', 'mono8; png compressed mono8')),
    OutputSpec('color_mask', 'rgb8', 'color', 'publish_color_mask',
               ('.jpg', 'rgb8; jpeg compressed bgr8')),
    OutputSpec('overlay', 'rgb8', 'overlay', 'publish_overlay',
               ('.jpg', 'rgb8; jpeg compressed bgr8')),
    OutputSpec('class_mask', 'mono8', 'class_mask', 'mask_ids'),
    # round(255 p), p the softmax probability of the class the label map shows there.
    OutputSpec('confidence', 'mono8', 'confidence', 'publish_confidence',
               ('.png', 'mono8; png compressed mono8'), needs_confidence=True),
)
OUTPUT_NAMES = tuple(spec.name for spec in OUTPUTS)


def switched_on(spec: OutputSpec, settings) -> bool:
    return spec.switch is None or bool(getattr(settings, spec.switch))


class Products:
    """
    A segmented frame's output images, each made on first use.

    Masks are made at the model's size and scaled like the labels (centre-
    aligned nearest neighbour): the same pixels, less work.
    """

    def __init__(self, job, segmenter, dataset):
        self._job, self._segmenter, self._dataset = job, segmenter, dataset

    def _scaled(self, array):
        if self._job.settings.output_resolution == 'input':
            return self._segmenter.to_input_size(self._job.prepared, array)
        return array

    @cached_property
    def small_labels(self) -> np.ndarray:
        return self._segmenter.finish(self._job.prepared, self._job.labels, 'model')

    @cached_property
    def labels(self) -> np.ndarray:
        return self._scaled(self.small_labels)

    @cached_property
    def color(self) -> np.ndarray:
        return self._scaled(colorize(self.small_labels, self._dataset.colormap))

    @cached_property
    def overlay(self) -> np.ndarray:
        image, labels = self._job.image, self.labels
        if image.shape[:2] != labels.shape:
            image = cv2.resize(image, labels.shape[::-1], interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if self._job.order == 'bgr' else image
        return overlay(np.ascontiguousarray(rgb), self.color, self._job.settings.overlay_alpha,
                       self._dataset.background_mask(labels))

    @cached_property
    def confidence(self) -> np.ndarray:
        return self._scaled(self._segmenter.finish(self._job.prepared, self._job.confidence,
                                                   'model'))

    @cached_property
    def class_mask(self) -> np.ndarray:
        marked = np.zeros(256, np.uint8)
        marked[list(self._job.settings.mask_ids)] = 255
        return self._scaled(cv2.LUT(self.small_labels, marked))


class ImageOutputs:
    """
    The publishers of one camera's image outputs (``prefix``: '' or '<camera>/').

    ``confidence``: whether the model has class scores; without them the outputs
    made from scores have no publisher.
    """

    def __init__(self, node, prefix: str, qos, confidence: bool):
        self._node = node
        self.publishers = {}  # 'label_map', 'label_map/compressed', ... -> publisher
        for spec in OUTPUTS:
            if spec.needs_confidence and not confidence:
                continue
            # Destroyed at cleanup while the node spins: never served (ros/unserved.py).
            self.publishers[spec.name] = node.create_lifecycle_publisher(
                Image, f'~/{prefix}{spec.name}', qos, callback_group=NEVER_EXECUTED)
            if spec.compressed:
                self.publishers[f'{spec.name}/compressed'] = node.create_lifecycle_publisher(
                    CompressedImage, f'~/{prefix}{spec.name}/compressed', qos,
                    callback_group=NEVER_EXECUTED)

    def subscribed(self) -> list:
        """Return the outputs (``name`` or ``name/compressed``) that have a subscriber."""
        return [key for key, publisher in list(self.publishers.items())
                if subscriber_count(publisher) > 0]

    def wanted(self, settings) -> Dict[str, bool]:
        """Return ``{output: wanted}``: subscribed and switched on by ``settings``."""
        subscribed = set(self.subscribed())
        return {key: key in subscribed and switched_on(spec, settings)
                for spec in OUTPUTS for key in (spec.name, f'{spec.name}/compressed')
                if key in self.publishers}

    def topics(self, settings) -> Tuple[List[str], List[str]]:
        """Return the topics published now and those a setting keeps off (with its name)."""
        on, off = [], []
        for spec in OUTPUTS:
            for key in (spec.name, f'{spec.name}/compressed'):
                if key in self.publishers:
                    topic = self.publishers[key].topic_name
                    if switched_on(spec, settings):
                        on.append(topic)
                    else:
                        off.append(f'{topic} ({spec.switch.replace("_ids", "_classes")})')
        return on, off

    def needs_confidence(self, wanted: Dict[str, bool]) -> bool:
        """Tell whether a wanted output is made from the model's scores (infer them too)."""
        return any(wanted.get(key) for spec in OUTPUTS if spec.needs_confidence
                   for key in (spec.name, f'{spec.name}/compressed'))

    def publish(self, header, products: Products, settings, wanted: Dict[str, bool]):
        """Publish every wanted output of one frame, with the camera frame's ``header``."""
        for spec in OUTPUTS:
            if wanted.get(spec.name):
                self.publishers[spec.name].publish(serialize_image(
                    header, getattr(products, spec.product), spec.encoding))
            if wanted.get(f'{spec.name}/compressed'):
                self.publishers[f'{spec.name}/compressed'].publish(
                    _compressed(header, getattr(products, spec.product), spec, settings))

    def destroy(self):
        for publisher in self.publishers.values():
            self._node.destroy_lifecycle_publisher(publisher)
        self.publishers = {}


def _compressed(header, array, spec, settings):
    suffix, text = spec.compressed
    bgr = array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    options = ([cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality] if suffix == '.jpg'
               else [cv2.IMWRITE_PNG_COMPRESSION, 1])
    msg = CompressedImage(format=text, data=cv2.imencode(suffix, bgr, options)[1].tobytes())
    msg.header.stamp.sec, msg.header.stamp.nanosec = header.sec, header.nanosec
    msg.header.frame_id = header.frame_id
    return msg
