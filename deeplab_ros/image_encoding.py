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
Compressed images are refused by the size their header declares, before
decoding, so a small file cannot make the node allocate gigabytes.
"""

import struct

import cv2
import numpy as np
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
# Larger than any camera (8192x8192); guards against a corrupt or hostile
# header asking for gigabytes, raw or compressed.
MAX_PIXELS = 8192 * 8192


class ImageError(ValueError):
    """An image message that cannot be decoded; the message says why, ``kind`` what."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def check_size(width, height, what='image'):
    """Refuse an empty image or one over MAX_PIXELS, raw or compressed alike."""
    if height == 0 or width == 0:
        raise ImageError('empty', f'empty {what} ({width}x{height})')
    if height * width > MAX_PIXELS:
        raise ImageError('size', f'absurd {what} size {width}x{height} (over {MAX_PIXELS} '
                                 'pixels)')


def _pixels(msg):
    """View ``msg.data`` as an ``(h, w, channels)`` array, checking every field."""
    encoding = msg.encoding.lower()
    if encoding not in _LAYOUTS:
        raise ImageError(f'encoding {encoding}',
                         f"unsupported encoding '{msg.encoding}'; supported: "
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


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def declared_size(data):
    """Return ``(width, height)`` from a PNG, JPEG or BMP header, or None for other formats."""
    data = bytes(data[:1 << 16])
    if data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) >= 24:
        return struct.unpack('>II', data[16:24])
    if data[:2] == b'BM' and len(data) >= 26:
        width, height = struct.unpack('<ii', data[18:26])
        return abs(width), abs(height)
    if data[:2] == b'\xff\xd8':
        pos = 2
        while pos + 9 <= len(data) and data[pos] == 0xFF:
            marker, length = data[pos + 1], struct.unpack('>H', data[pos + 2:pos + 4])[0]
            if marker in _JPEG_SOF:
                height, width = struct.unpack('>HH', data[pos + 5:pos + 9])
                return width, height
            pos += 2 + length
    return None


def read_image_file(path):
    """Read an image file as BGR (None if unreadable); refuse by its header one too large."""
    with open(path, 'rb') as handle:
        head = handle.read(1 << 16)
    size = declared_size(head)
    if size is not None:
        check_size(*size, what=f'image {path}')
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is not None:
        check_size(image.shape[1], image.shape[0], what=f'image {path}')
    return image


def compressed_to_array(msg):
    """Decode a ``sensor_msgs/CompressedImage`` (JPEG, PNG, ...) to ``(BGR array, 'bgr')``."""
    if len(msg.data) == 0:
        raise ImageError('empty', f"empty compressed image (format '{msg.format}')")
    size = declared_size(msg.data)
    if size is not None:
        check_size(*size)
    image = cv2.imdecode(np.frombuffer(msg.data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError('undecodable', f'cannot decode compressed image (format '
                                        f"'{msg.format}', {len(msg.data)} bytes)")
    check_size(image.shape[1], image.shape[0])
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
