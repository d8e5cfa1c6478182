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


def resize(confidence: np.ndarray, size: tuple, align: str) -> np.ndarray:
    """
    Enlarge a [h, w] uint8 map bilinearly to ``size`` (h, w) with the model's geometry.

    OpenCV's resize samples pixel areas (half-pixel centres); the others take a
    warp (0.8 ms at 513x513: a larger resize and a crop is faster but off by half
    an output pixel, 14 levels next to a sharp edge).
    """
    # Sizes as numpy or TensorFlow give them: plain ints for OpenCV.
    height, width = int(size[0]), int(size[1])
    h, w = confidence.shape
    if (h, w) == (height, width):
        return confidence
    if align == HALF_PIXEL:
        return cv2.resize(confidence, (width, height), interpolation=cv2.INTER_LINEAR)
    if align == CORNERS:
        sx = (w - 1) / (width - 1) if width > 1 else 0.0
        sy = (h - 1) / (height - 1) if height > 1 else 0.0
    else:
        sx, sy = w / width, h / height
    # The destination-to-source map, sampled with edge pixels repeated.
    return cv2.warpAffine(confidence, np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]]),
                          (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


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
