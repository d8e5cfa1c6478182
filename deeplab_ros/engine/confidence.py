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
Per-pixel confidence from a model's class scores: ``round(255 * p)`` as uint8.

p is the softmax probability of the winning class. DeepLab computes its
scores at a fraction of the label map's size (33x33 for 513x513) and resizes
them bilinearly before its ArgMax; the softmax is taken at that small size
(a 513x513x21 softmax would cost tens of milliseconds per frame) and the
confidence is resized as the model resized its scores, onto the grid the
ArgMax saw. So p is the probability of the label shown everywhere but
within a score cell of a class boundary, where it is interpolated.
"""

import math

import cv2
import numpy as np

# How a bilinear resize maps output pixels onto input pixels (TensorFlow's flags):
CORNERS = 'align_corners'          # corner pixel centres coincide (DeepLab's choice)
HALF_PIXEL = 'half_pixel_centers'  # pixel areas coincide (OpenCV's resize)
LEGACY = 'legacy'                  # neither: TensorFlow 1's default


def alignment(align_corners, half_pixel_centers):
    """Name the geometry of a resize from its two TensorFlow flags."""
    return CORNERS if align_corners else HALF_PIXEL if half_pixel_centers else LEGACY


def max_probability(scores: np.ndarray, scale: float = 0.0) -> np.ndarray:
    """
    Return ``round(255 * max softmax)`` over the last axis of ``scores`` [h, w, C], as uint8.

    A quantized tensor comes with its scale (0 when it is not quantized): its
    zero point cancels out of a softmax, the scale does not.
    """
    logits = scores.astype(np.float32)
    logits -= logits.max(axis=-1, keepdims=True)
    if scale:
        logits *= scale
    # The winner's probability is exp(0) over the sum of exponentials.
    return np.rint(255.0 / np.exp(logits).sum(axis=-1)).astype(np.uint8)


def _plan(n, size, align):
    """
    Return (skip, resized, pad): resize n + pad pixels to ``resized``, keep ``size`` from ``skip``.

    OpenCV's resize samples pixel areas (half-pixel centres) and is fast; a larger
    resize and a crop sample the other geometries too, within half an output pixel
    (a generic warp is exact but eight times slower: 0.8 ms at 513x513).
    """
    if align == CORNERS:
        step, first = ((n - 1) / (size - 1) if size > 1 else n), 0.0
    else:
        step = n / size
        first = step / 2 - 0.5 if align == HALF_PIXEL else 0.0
    skip = max(0, round((first + 0.5) / step - 0.5))
    pad = max(0, math.ceil((skip + size) * step - n - 1e-9))  # repeats the last pixel
    return skip, max(round((n + pad) / step), skip + size), pad


def resize(confidence: np.ndarray, size: tuple, align: str) -> np.ndarray:
    """Enlarge a [h, w] uint8 map bilinearly to ``size`` (h, w) with the model's geometry."""
    # Sizes as numpy or TensorFlow give them: plain ints for OpenCV.
    height, width = int(size[0]), int(size[1])
    if confidence.shape == (height, width):
        return confidence
    (top, rows, bottom), (left, columns, right) = (
        _plan(confidence.shape[0], height, align), _plan(confidence.shape[1], width, align))
    if bottom or right:
        confidence = cv2.copyMakeBorder(confidence, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    larger = cv2.resize(confidence, (columns, rows), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(larger[top:top + height, left:left + width])


def fit(confidence: np.ndarray, shape: tuple) -> np.ndarray:
    """
    Bring a map on the ArgMax's grid to the label map's ``shape`` as the zoo graphs do.

    They crop their padding (bottom and right) after the ArgMax, then scale the
    labels with nearest neighbour to the image's size.
    """
    confidence = confidence[:shape[0], :shape[1]]
    if confidence.shape != tuple(shape):
        confidence = cv2.resize(confidence, (shape[1], shape[0]),
                                interpolation=cv2.INTER_NEAREST_EXACT)
    return np.ascontiguousarray(confidence)
