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
Turn label maps into pictures: color masks, overlays and class summaries.

These run on every frame, so each is a single vectorised numpy/OpenCV call.
"""

import cv2
import numpy as np


def colorize(labels, colormap):
    """Map a label map (HxW integer ids) to an HxWx3 color mask by table lookup."""
    if labels.dtype != np.uint8 or len(colormap) != 256:
        return colormap[labels]
    # cv2.LUT is several times faster than numpy fancy indexing on a camera frame.
    return cv2.LUT(cv2.merge((labels, labels, labels)), colormap.reshape(256, 1, 3))


def overlay(image, color_mask, alpha, background=None):
    """
    Alpha-blend ``color_mask`` onto ``image`` (same size and channel order).

    Where the boolean mask ``background`` is true the camera image stays
    untouched, so the overlay only marks what was recognised.
    """
    if alpha <= 0.0:
        return image.copy()
    blended = cv2.addWeighted(color_mask, float(alpha), image, 1.0 - float(alpha), 0.0)
    if background is not None:
        # cv2.copyTo with a mask: ~10x faster than np.copyto(where=...) here.
        cv2.copyTo(image, background.view(np.uint8), blended)
    return blended


def class_shares(labels, num_classes):
    """Return ``[(class_id, share)]`` of the classes present, largest share first."""
    counts = np.bincount(labels.ravel(), minlength=num_classes)
    total = float(labels.size)
    present = np.flatnonzero(counts)
    order = present[np.argsort(-counts[present], kind='stable')]
    return [(int(i), counts[i] / total) for i in order]


def describe_classes(labels, dataset):
    """Return 'bird 21.3%, background 78.7%' for the classes in ``labels``."""
    names = dataset.class_names
    return ', '.join(f'{names[i] if i < len(names) else i} {share:.1%}'
                     for i, share in class_shares(labels, 256))
