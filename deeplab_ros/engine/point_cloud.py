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
y = (v - cy) z / fy, in the optical frame. Two layouts: dense, one point per
valid depth pixel (each takes the label of its pixel in the label map), and
organized, one point per label-map pixel in row-major order with NaN x, y, z
where there is no point (each takes the depth of its pixel), which is what
consumers that walk the cloud in step with the mask need (Nav2's semantic
segmentation layer). Images of different sizes but the same aspect ratio are
matched centre-aligned: the nearest pixel to each pixel's centre, and a camera
matrix scaled so that pixel centres stay on the same rays. Everything is numpy
on whole arrays, into buffers kept between frames: no per-point Python.
"""

from dataclasses import dataclass
import math

import cv2
import numpy as np

# The cloud's layout: x, y, z (float32, metres), rgb (float32 holding 0x00RRGGBB, as PCL
# and rviz2 read it) and label (uint32, the class id). name -> (offset, numpy type).
FIELDS = {'x': (0, np.float32), 'y': (4, np.float32), 'z': (8, np.float32),
          'rgb': (12, np.float32), 'label': (16, np.uint32)}
POINT = np.dtype({'names': list(FIELDS), 'formats': [t for _, t in FIELDS.values()],
                  'offsets': [o for o, _ in FIELDS.values()], 'itemsize': 20})

# Every depth camera's own resolution is below this (ZED 2i 2208x1242 is 2.7 M, Azure
# Kinect 1024x1024, RealSense 1280x720), so only depth resampled to a large color image
# (4K: take cloud_stride 2) or a bogus message reaches it. 84 MB a cloud; an 8192x8192
# depth would make 1.3 GB ones.
MAX_CLOUD_POINTS = 1 << 22
# A focal length in pixels: under 1 a single pixel would see more than 53 degrees (no
# pinhole camera does); over 1e7 is a 10 m lens on 1 um pixels. Both ends are normal
# float32 numbers, so the range also holds after the cast the cloud is computed with.
FOCAL_RANGE = (1.0, 1e7)


class AlignmentError(ValueError):
    """A depth image that cannot be matched to the color camera; the message says why."""

    kind = 'depth alignment'


class CloudSizeError(ValueError):
    """A cloud that would have more than ``MAX_CLOUD_POINTS`` points."""

    kind = 'cloud size'


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
    def from_k(cls, k, width: int, height: int) -> 'Intrinsics':
        """
        From a row-major 3x3 camera matrix (CameraInfo's ``k``) and its image size.

        Refused with the entry named: a focal length outside ``FOCAL_RANGE``, a
        principal point not finite or more than one image size outside the image
        (a lens shift or a crop moves it off centre, never that far).
        """
        if not (width > 0 and height > 0):
            raise AlignmentError(f'camera_info has no usable image size ({width}x{height})')
        low, high = FOCAL_RANGE
        for index, name, lowest, highest in ((0, 'fx', low, high), (4, 'fy', low, high),
                                             (2, 'cx', -width, 2 * width),
                                             (5, 'cy', -height, 2 * height)):
            if not lowest <= float(k[index]) <= highest:  # NaN fails too
                raise AlignmentError(
                    f'camera_info has no usable camera matrix: k[{index}] ({name}) is '
                    f'{float(k[index])}, expected {lowest:g} to {highest:g}')
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    def scaled_to(self, width: int, height: int, image: str = 'depth') -> 'Intrinsics':
        """
        Return these intrinsics for an image of ``width`` x ``height`` (same aspect).

        Centre-aligned like the images: pixel u's centre is at u + 0.5 in the
        image's own pixel units, so c becomes (c + 0.5) s - 0.5, not c s.
        """
        sx, sy = width / self.width, height / self.height
        if abs(sx - sy) > 0.01 * max(sx, sy):
            hint = ('so the depth is not registered to this camera (use aligned depth, e.g. '
                    'align_depth.enable:=true on realsense2_camera)' if image == 'depth'
                    else "so camera_info is not the color camera's")
            raise AlignmentError(f'{image} is {width}x{height} but camera_info is '
                                 f'{self.width}x{self.height}: another aspect ratio, {hint}')
        if (sx, sy) == (1.0, 1.0):
            return self
        return Intrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5,
                          (self.cy + 0.5) * sy - 0.5, width, height)


def depth_in_metres(depth, encoding):
    """Return a float32 depth image in metres from a 16UC1 (mm) or 32FC1 (m) one."""
    if encoding == '16UC1':
        return np.multiply(depth, np.float32(0.001), dtype=np.float32)
    if encoding == '32FC1':
        return depth.astype(np.float32, copy=False)
    raise AlignmentError(f"depth encoding '{encoding}' is not a depth image; expected 16UC1 "
                         '(millimetres) or 32FC1 (metres)')


def _resampled(image, height, width, stride):
    """Return ``image`` at ``height`` x ``width``, every ``stride``-th pixel (centre-aligned)."""
    if image.shape[:2] == (height, width):
        return image[::stride, ::stride]
    rows = ((np.arange(0, height, stride) + 0.5) * image.shape[0] / height).astype(np.intp)
    cols = ((np.arange(0, width, stride) + 0.5) * image.shape[1] / width).astype(np.intp)
    return image[rows[:, None], cols[None, :]]


def packed_rgb(colormap):
    """Return each class's color as the float32 PCL and rviz2 read (bits 0x00RRGGBB)."""
    rgb = colormap.astype(np.uint32)
    return ((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).view(np.float32)


def _same_aspect(depth_m, labels):
    (height, width), (rows, cols) = depth_m.shape, labels.shape
    if abs(cols / width - rows / height) > 0.01 * rows / height:
        raise AlignmentError(f'depth is {width}x{height} but the label map is {cols}x{rows}: '
                             'another aspect ratio')


class CloudBuilder:
    """
    Builds clouds into arrays it keeps from one frame to the next, sized by the frame.

    A 640x480 cloud is 6 MB: in fresh arrays each frame, the page faults of their
    first writes cost more than the points themselves (``make bench`` measures
    both). A cloud returned stays valid until the next call: serialize it before
    building another, and give each thread its own builder.
    """

    def __init__(self):
        self._buffers = {}
        self._pixels = 0

    def _buffer(self, name, shape, dtype=np.float32):
        """
        Return an array of ``shape`` (pixel rows, pixel columns, ...) in kept memory.

        Each buffer has room for every pixel of this frame's grid, so a dense cloud
        of any count fits, and is taken anew only when the grid's size changes.
        """
        item = np.dtype(dtype).itemsize * math.prod(shape[2:])
        if len(self._buffers.get(name, ())) != self._pixels * item:
            self._buffers[name] = np.empty(self._pixels * item, np.uint8)
        return self._buffers[name][:shape[0] * shape[1] * item].view(dtype).reshape(shape)

    def points(self, depth_m, labels, intrinsics, colormap, stride=1, class_ids=None,
               min_depth=0.0, max_depth=np.inf, organized=False) -> np.ndarray:
        """
        Return the cloud as ``POINT`` records: 1-D if dense, height x width if organized.

        ``depth_m`` is HxW metres; ``labels`` is the uint8 label map at any size of
        the same aspect; ``intrinsics`` those of the color camera at any size of that
        aspect. A pixel has no point where its depth is 0, NaN or outside
        [min_depth, max_depth], or, with ``class_ids``, where its class is not one
        of them. Dense: the points of the depth's pixels that have one, every
        ``stride``-th pixel. Organized: a point for every pixel of the label map
        (every ``stride``-th), x, y and z NaN where there is none; label and rgb
        are always the pixel's class.
        """
        if organized:
            _same_aspect(depth_m, labels)
            height, width = labels.shape
            camera = intrinsics.scaled_to(width, height, 'the label map')
        else:
            height, width = depth_m.shape
            camera = intrinsics.scaled_to(width, height)
            _same_aspect(depth_m, labels)
        u, v = np.arange(0, width, stride), np.arange(0, height, stride)
        if len(u) * len(v) > MAX_CLOUD_POINTS:
            raise CloudSizeError(f'a cloud of {len(u)}x{len(v)} points is more than the '
                                 f'{MAX_CLOUD_POINTS} one may have: take a larger stride or '
                                 'smaller images')
        z = _resampled(depth_m, height, width, stride)
        ids = _resampled(labels, height, width, stride)
        shape = z.shape
        self._pixels = z.size
        # x = (u - cx) z / fx: one factor per column and per row, so each coordinate is one
        # broadcast multiply.
        columns = (u.astype(np.float32) - np.float32(camera.cx)) / np.float32(camera.fx)
        rows = (v.astype(np.float32) - np.float32(camera.cy)) / np.float32(camera.fy)
        # Depth beyond ``far`` would overflow x or y in float32 (a 32FC1 image may hold
        # 3e38): no point is ever non-finite.
        reach = max(1.0, float(np.abs(columns).max()), float(np.abs(rows).max()))
        far = min(max_depth, float(np.finfo(np.float32).max) / (2 * reach))
        near = max(min_depth, float(np.finfo(np.float32).tiny))
        valid = np.greater_equal(z, near, out=self._buffer('valid', shape, bool))  # NaN: no
        valid &= np.less_equal(z, far, out=self._buffer('test', shape, bool))
        if class_ids is not None:  # (cv2.LUT, as below: np.take would convert ids to intp)
            wanted = np.zeros(256, np.uint8)
            wanted[np.asarray(class_ids, np.intp)] = 1
            valid &= cv2.LUT(ids, wanted, dst=self._buffer('test', shape, np.uint8)).view(bool)
        if organized:
            depth = self._buffer('z', shape)
            depth.fill(np.nan)
            np.copyto(depth, z, where=valid)
            across, down = columns, rows[:, None]
        else:  # the pixels that have a point, in one row
            index = np.flatnonzero(valid)
            if not len(index):  # (OpenCV takes no empty arrays)
                return np.empty(0, POINT)
            # Each point's row factor: the points per row are where the rows start in index.
            starts = np.searchsorted(index, np.arange(0, valid.size + 1, valid.shape[1]))
            down = np.repeat(rows, np.diff(starts))
            across = self._buffer('columns', valid.shape)  # each pixel's column factor
            across[:] = columns
            shape = (1, len(index))
            depth, ids, across = (
                np.take(grid, index, mode='clip', out=self._buffer(name, shape, grid.dtype)[0])
                for name, grid in (('packed z', z), ('packed ids', ids),
                                   ('packed columns', across)))
        fields = [np.multiply(depth, across, out=self._buffer('x', shape)),
                  np.multiply(depth, down, out=self._buffer('y', shape)),
                  depth.reshape(shape)]
        # cv2.LUT takes 256 entries, and needs no index array (np.take makes one of intp).
        lut = np.zeros(256, np.float32)
        lut[:len(colormap[:256])] = packed_rgb(colormap[:256])
        ids = ids.reshape(shape)
        label = self._buffer('label', shape, np.uint32)
        np.copyto(label, ids)
        fields += [cv2.LUT(ids, lut, dst=self._buffer('rgb', shape)), label.view(np.float32)]
        # One interleaving pass into the kept buffer: numpy's strided stores cost twice that.
        cloud = cv2.merge(fields, self._buffer('cloud', shape + (5,))).view(POINT)[..., 0]
        return cloud if organized else cloud[0]


def labeled_points(*args, **kwargs) -> np.ndarray:
    """Return one cloud in arrays of its own: ``CloudBuilder.points`` for a single frame."""
    return CloudBuilder().points(*args, **kwargs)
