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
Convert between sensor_msgs images and numpy arrays, without cv_bridge.

Decoding wraps the message buffer with ``np.frombuffer`` (no copy) and
honours ``step`` (row padding); colour conversion is one OpenCV call. Every
problem with a message raises ``ImageError`` with a message naming it and a
``kind`` (so warnings about one kind of problem do not hide another).
Compressed images are decoded by ``image_files.decode_image``, which refuses
an oversize one by the size its header declares, before decoding.
"""

import cv2
from deeplab_ros.engine.image_files import check_size, COMPRESSED_FORMATS, decode_image, \
    ImageError
from deeplab_ros.pipeline.cdr import Header, ImageView, parse_image
import numpy as np
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image

# encoding -> (channels, bytes per channel)
_LAYOUTS = {
    'rgb8': (3, 1), 'bgr8': (3, 1), 'rgba8': (4, 1), 'bgra8': (4, 1), 'mono8': (1, 1),
    'mono16': (1, 2),
    # Packed 4:2:2, two bytes per pixel: YUYV ('yuv422_yuy2', usb_cam's raw
    # YUYV) and UYVY ('yuv422', the ROS name for it).
    'yuv422_yuy2': (2, 1), 'yuv422': (2, 1),
}
SUPPORTED_ENCODINGS = tuple(_LAYOUTS)
_TO_RGB = {
    'mono8': cv2.COLOR_GRAY2RGB,
    'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUY2,
    'yuv422': cv2.COLOR_YUV2RGB_UYVY,
}


def _pixels(msg):
    """View ``msg.data`` as an ``(h, w, channels)`` array, checking every field."""
    encoding = msg.encoding.lower()
    if encoding not in _LAYOUTS:
        shown = msg.encoding if len(msg.encoding) <= 32 else msg.encoding[:32] + '...'
        raise ImageError(f'encoding {encoding[:32]}',
                         f"unsupported encoding '{shown}'; supported: "
                         f"{', '.join(SUPPORTED_ENCODINGS)}")
    height, width = msg.height, msg.width
    check_size(width, height)
    channels, depth = _LAYOUTS[encoding]
    row_bytes = width * channels * depth
    if msg.step < row_bytes:
        raise ImageError('step', f'step {msg.step} is smaller than a {encoding} row of '
                                 f'{width} pixels ({row_bytes} bytes)')
    if len(msg.data) < msg.step * height:
        raise ImageError('truncated', f'truncated data: {len(msg.data)} bytes, expected '
                                      f'step*height = {msg.step}*{height} = '
                                      f'{msg.step * height}')
    if encoding in ('yuv422_yuy2', 'yuv422') and width % 2:
        raise ImageError('odd width', f'{encoding} needs an even width, got {width}')
    buffer = np.frombuffer(msg.data, dtype=np.uint8, count=msg.step * height)
    rows = buffer.reshape(height, msg.step)[:, :row_bytes]
    if depth == 2:
        rows = rows.view('>u2' if msg.is_bigendian else '<u2')
    return rows.reshape(height, width, channels)


def image_to_array(msg):
    """
    Decode a ``sensor_msgs/Image`` to ``(HxWx3 uint8 array, 'rgb' or 'bgr')``.

    RGB and BGR data are returned in their own order (no copy); the caller
    passes the order on, so no channel swap is spent on the full frame.
    """
    pixels = _pixels(msg)
    encoding = msg.encoding.lower()
    if encoding in ('rgb8', 'bgr8', 'rgba8', 'bgra8'):
        return pixels[..., :3], encoding[:3]
    if encoding == 'mono16':
        pixels = (pixels >> 8).astype(np.uint8)
        encoding = 'mono8'
    return cv2.cvtColor(np.ascontiguousarray(pixels), _TO_RGB[encoding]), 'rgb'


def image_view(raw):
    """Read a serialized ``sensor_msgs/Image`` as an ``ImageView`` (rclpy if not CDR LE)."""
    view = parse_image(raw)
    if view is not None:
        return view
    msg = deserialize_message(raw, Image)
    return ImageView(header_of(msg), msg.height, msg.width, msg.encoding, msg.is_bigendian,
                     msg.step, msg.data)


def header_of(msg):
    """Return the ``Header`` (stamp, frame_id) of an rclpy message."""
    return Header(msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id)


def compressed_to_array(msg):
    """Decode a ``sensor_msgs/CompressedImage`` (JPEG, PNG, ...) to ``(BGR array, 'bgr')``."""
    if len(msg.data) == 0:
        raise ImageError('empty', f"empty compressed image (format '{msg.format}')")
    image = decode_image(msg.data, 'compressed image', accepted=COMPRESSED_FORMATS)
    if image is None:
        raise ImageError('undecodable', f'cannot decode compressed image (format '
                                        f"'{msg.format}', {len(msg.data)} bytes)")
    return image, 'bgr'


def array_to_image(array, encoding, header=None):
    """Build a ``sensor_msgs/Image`` from a uint8 array (HxW for mono8, HxWx3 for rgb8/bgr8)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    channels = 1 if array.ndim == 2 else array.shape[2]
    if _LAYOUTS.get(encoding, (None,))[0] != channels:
        raise ValueError(f'{encoding} needs {_LAYOUTS.get(encoding, ("?",))[0]} channel(s), '
                         f'got an array of shape {array.shape}')
    msg = Image(height=array.shape[0], width=array.shape[1], encoding=encoding,
                is_bigendian=0, step=array.shape[1] * channels)
    if header is not None:
        msg.header = header
    msg.data = array.tobytes()
    return msg


DEPTH_TYPES = {'16UC1': 'u2', '32FC1': 'f4'}  # millimetres, metres


def depth_to_array(msg):
    """View a depth ``Image`` (16UC1 or 32FC1, any ``step``) as an HxW array, unconverted."""
    kind = DEPTH_TYPES.get(msg.encoding)
    if kind is None:
        raise ImageError('depth encoding', f"depth encoding '{msg.encoding}' is not a depth "
                                           'image; expected 16UC1 (mm) or 32FC1 (m)')
    height, width = msg.height, msg.width
    check_size(width, height, 'depth image')
    row_bytes = width * int(kind[1])
    if msg.step < row_bytes or len(msg.data) < msg.step * height:
        raise ImageError('depth truncated', f'depth image {width}x{height} {msg.encoding}: '
                                            f'step {msg.step}, {len(msg.data)} bytes of data')
    rows = np.frombuffer(msg.data, np.uint8, count=msg.step * height).reshape(height, msg.step)
    return rows[:, :row_bytes].view(('>' if msg.is_bigendian else '<') + kind)
