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
Encoded images (files, compressed messages) decoded safely, without ROS.

Every image is held to one pixel limit, and an encoded one is refused by the
size its header declares before it is decoded, so a small file cannot make a
program allocate gigabytes. ``deeplab-segment`` uses this without ROS; the
node's message decoding (``image_encoding.py``) builds on it.
"""

from pathlib import Path
import struct

import cv2
import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
# Larger than any camera (8192x8192); guards against a corrupt or hostile
# header asking for gigabytes, raw or compressed.
MAX_PIXELS = 8192 * 8192
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageError(ValueError):
    """An image that cannot be decoded; the message says why, ``kind`` what."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def check_size(width, height, what='image'):
    """Refuse an empty image or one over MAX_PIXELS, raw or encoded alike."""
    if height == 0 or width == 0:
        raise ImageError('empty', f'empty {what} ({width}x{height})')
    if height * width > MAX_PIXELS:
        raise ImageError('size', f'absurd {what} size {width}x{height} (over {MAX_PIXELS} '
                                 'pixels)')


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


def decode_image(data, what='image'):
    """Decode encoded bytes to a BGR array (None if undecodable), refusing an oversize one."""
    size = declared_size(data)
    if size is not None:
        check_size(*size, what=what)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is not None:
        check_size(image.shape[1], image.shape[0], what=what)
    return image


def read_image_file(path):
    """Read an image file as BGR (None if it is not an image); OSError if unreadable."""
    return decode_image(Path(path).read_bytes(), what=f'image {path}')
