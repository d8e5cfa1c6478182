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
A labeled 3D point cloud from a depth image registered to the segmented color image (no ROS).

Depth in ``16UC1`` (millimetres) or ``32FC1`` (metres), registered to the color
camera (RealSense ``aligned_depth_to_color``, OAK-D aligned depth), becomes
points with the pinhole model of the color camera: x = (u - cx) z / fx,
y = (v - cy) z / fy, in the optical frame. The camera matrix is scaled to the
depth's resolution when it differs (same aspect ratio only), and each point
takes the label of its pixel in the label map (centre-aligned nearest
neighbour when the label map has another size). Everything is numpy on whole
arrays: no per-point Python.
"""

from dataclasses import dataclass

import numpy as np

# The cloud's layout: x, y, z (float32, metres), rgb (float32 holding 0x00RRGGBB, as PCL
# and rviz2 read it) and label (uint32, the class id). name -> (offset, numpy type).
FIELDS = {'x': (0, np.float32), 'y': (4, np.float32), 'z': (8, np.float32),
          'rgb': (12, np.float32), 'label': (16, np.uint32)}
POINT = np.dtype({'names': list(FIELDS), 'formats': [t for _, t in FIELDS.values()],
                  'offsets': [o for o, _ in FIELDS.values()], 'itemsize': 20})


class AlignmentError(ValueError):
    """A depth image that cannot be matched to the color camera; the message says why."""

    kind = 'depth alignment'


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole parameters of the camera the depth is registered to, at some resolution."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_k(cls, k, width, height):
        """From a row-major 3x3 camera matrix (CameraInfo's ``k``) and its image size."""
        if not (k[0] > 0 and k[4] > 0 and width > 0 and height > 0):
            raise AlignmentError(f'camera_info has no usable camera matrix (fx {k[0]}, fy '
                                 f'{k[4]}, size {width}x{height})')
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    def scaled_to(self, width, height):
        """Return these intrinsics for an image of ``width`` x ``height`` (same aspect)."""
        sx, sy = width / self.width, height / self.height
        if abs(sx - sy) > 0.01 * max(sx, sy):
            raise AlignmentError(
                f'depth is {width}x{height} but camera_info is {self.width}x{self.height}: '
                'another aspect ratio, so the depth is not registered to this camera (use '
                'aligned depth, e.g. align_depth.enable:=true on realsense2_camera)')
        if (sx, sy) == (1.0, 1.0):
            return self
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, width, height)


def depth_in_metres(depth, encoding):
    """Return a float32 depth image in metres from a 16UC1 (mm) or 32FC1 (m) one."""
    if encoding == '16UC1':
        return depth.astype(np.float32) * np.float32(0.001)
    if encoding == '32FC1':
        return depth.astype(np.float32, copy=False)
    raise AlignmentError(f"depth encoding '{encoding}' is not a depth image; expected 16UC1 "
                         '(millimetres) or 32FC1 (metres)')


def labels_at(labels, height, width):
    """Sample a label map at another resolution, centre-aligned nearest (as the node scales)."""
    if labels.shape == (height, width):
        return labels
    if abs(labels.shape[1] / width - labels.shape[0] / height) > 0.01 * labels.shape[0] / height:
        raise AlignmentError(f'depth is {width}x{height} but the label map is '
                             f'{labels.shape[1]}x{labels.shape[0]}: another aspect ratio')
    rows = ((np.arange(height) + 0.5) * labels.shape[0] / height).astype(np.intp)
    cols = ((np.arange(width) + 0.5) * labels.shape[1] / width).astype(np.intp)
    return labels[rows[:, None], cols[None, :]]


def packed_rgb(colormap):
    """Return each class's color as the float32 PCL and rviz2 read (bits 0x00RRGGBB)."""
    rgb = colormap.astype(np.uint32)
    return ((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).view(np.float32)


def labeled_points(depth_m, labels, intrinsics, colormap, stride=1, class_ids=None,
                   min_depth=0.0, max_depth=np.inf):
    """
    Return the cloud as a structured array of ``POINT`` (one row per valid pixel).

    ``depth_m`` is HxW metres; ``labels`` is the label map at any size of the same
    aspect; ``intrinsics`` those of the color camera at any size of that aspect.
    Pixels with depth 0, NaN or outside [min_depth, max_depth] are dropped; with
    ``class_ids`` only those classes are kept; ``stride`` takes every n-th pixel.
    """
    height, width = depth_m.shape
    camera = intrinsics.scaled_to(width, height)
    z = depth_m[::stride, ::stride]
    ids = labels_at(labels, height, width)[::stride, ::stride]
    valid = (z >= max(min_depth, np.finfo(np.float32).tiny)) & (z <= max_depth)  # NaN: False
    if class_ids is not None:
        wanted = np.zeros(256, bool)
        wanted[np.asarray(class_ids, np.intp)] = True
        valid &= wanted[ids]
    # x = (u - cx) z / fx: one factor per column and per row, so each coordinate is one
    # broadcast multiply and one selection of the valid pixels.
    columns = (np.arange(0, width, stride, dtype=np.float32) - np.float32(camera.cx)) \
        / np.float32(camera.fx)
    rows = (np.arange(0, height, stride, dtype=np.float32) - np.float32(camera.cy)) \
        / np.float32(camera.fy)
    zs = z[valid]
    label = ids[valid]
    out = np.empty((len(zs), 5), np.float32)
    out[:, 0] = (z * columns[None, :])[valid]
    out[:, 1] = (z * rows[:, None])[valid]
    out[:, 2] = zs
    out[:, 3] = packed_rgb(colormap)[label]
    out[:, 4] = label.astype(np.uint32).view(np.float32)
    return out.view(POINT)[:, 0]
