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
Segment camera images of any size with a loaded DeepLab model.

As in the DeepLab demo, the longest side is scaled to the model's input size
(aspect ratio kept); fixed-size models get the rest padded with the mean pixel
(128) at the bottom and right. The output is cropped to exactly the resized
region and scaled back with centre-aligned nearest neighbour, so labels never
shift or bleed between classes.

``prepare`` / ``infer`` / ``finish`` are the three stages of ``segment``,
exposed so a pipeline can overlap one frame's pre/post-processing with the
next frame's inference. A confidence map from ``infer(..., confidence=True)``
goes through ``finish`` like the labels, so both stay pixel-aligned.
"""

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 128


@dataclass(frozen=True)
class Prepared:
    """A model-ready batch and the geometry needed to map labels back."""

    batch: np.ndarray     # uint8 RGB [1, H, W, 3]
    image_size: tuple     # (h, w) of the caller's image
    resized_size: tuple   # (h, w) of the image inside the batch


def check_image(image):
    """Raise a clear error unless ``image`` is an HxWx3 uint8 array."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f'image must be a numpy array, got {type(image).__name__}')
    if image.dtype != np.uint8:
        raise ValueError(f'image must be uint8, got {image.dtype}')
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be HxWx3 (3 channels), got shape {image.shape}')
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f'image is empty: shape {image.shape}')


def _resize(image, width, height):
    """
    Resize like INTER_AREA (shrinking) or INTER_LINEAR (enlarging), faster.

    OpenCV's INTER_AREA is slow for fractional factors. A factor of 2 or
    more first goes through its fast whole-number path (averaging k x k
    blocks), leaving a step under 1.5x that bilinear does as well. Below 2x
    the single INTER_AREA step stays (bilinear alone loses detail there).
    Measured on the shared photos at 1280x720 and 1920x1080: 98.9 to 99.7%
    label agreement with one INTER_AREA step, the same accuracy against their
    reference masks (within 0.4 points), at a third of its time.
    """
    h, w = image.shape[:2]
    if height * width >= h * w:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    k = int(min(w / width, h / height))
    if k < 2:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    image = cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


class Segmenter:
    """Run a model from ``model_loading.load_model`` on images of any size."""

    def __init__(self, model, input_size=None):
        self.model = model
        self.input_size = int(input_size or getattr(model, 'input_size', 513))
        if self.input_size < 16:
            raise ValueError(f'input_size must be at least 16, got {self.input_size}')

    def _resized_size(self, height, width):
        if self.model.fixed_size:
            box_h, box_w = self.model.fixed_size
            scale = min(box_h / height, box_w / width)
        else:
            scale = self.input_size / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))

    def prepare(self, image, color_order='rgb'):
        """Resize (and pad) ``image`` into a model batch, converting BGR to RGB."""
        check_image(image)
        if color_order not in ('rgb', 'bgr'):
            raise ValueError(f"color_order must be 'rgb' or 'bgr', got {color_order!r}")
        height, width = image.shape[:2]
        rh, rw = self._resized_size(height, width)
        if (rh, rw) != (height, width):
            image = _resize(image, rw, rh)
        box_h, box_w = self.model.fixed_size or (rh, rw)
        batch = np.empty((1, box_h, box_w, 3), dtype=np.uint8)
        if (box_h, box_w) != (rh, rw):
            batch.fill(PAD_VALUE)
        if color_order == 'bgr':  # the swap written straight into the batch, no temporary
            cv2.cvtColor(image, cv2.COLOR_BGR2RGB, dst=batch[0, :rh, :rw])
        else:
            batch[0, :rh, :rw] = image
        return Prepared(batch, (height, width), (rh, rw))

    def infer(self, prepared, confidence=False):
        """
        Run the model; return raw class ids for the whole batch area.

        With ``confidence``, return (ids, confidence or None when the model has no
        class scores): ``model.has_confidence`` says which, ahead of time.
        """
        if confidence:
            return self.model.predict_with_confidence(prepared.batch)
        return self.model.predict(prepared.batch)

    def finish(self, prepared, raw, resolution='input'):
        """Crop the padding and scale labels (or confidence) to the input or keep 'model' size."""
        rh, rw = prepared.resized_size
        labels = raw[:rh, :rw].astype(np.uint8, copy=False)
        if resolution == 'model':
            return np.ascontiguousarray(labels)
        if resolution != 'input':
            raise ValueError(f"resolution must be 'input' or 'model', got {resolution!r}")
        return self.to_input_size(prepared, labels)

    @staticmethod
    def to_input_size(prepared, array):
        """
        Scale a model-size map (labels, or colors made from them) to the caller's image size.

        Centre-aligned nearest neighbour: colorizing then scaling gives exactly
        the colors of the scaled labels, on fewer pixels.
        """
        height, width = prepared.image_size
        if array.shape[:2] == (height, width):
            return np.ascontiguousarray(array)
        return cv2.resize(array, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)

    def segment(self, image, color_order='rgb', resolution='input'):
        """Return the uint8 label map of ``image`` (HxWx3 uint8, RGB or BGR)."""
        prepared = self.prepare(image, color_order)
        return self.finish(prepared, self.infer(prepared), resolution)
