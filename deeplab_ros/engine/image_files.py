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
The one gate every encoded image passes (files, compressed messages), without ROS.

An image is identified by its magic bytes, not its name. Only formats whose
header this module reads are accepted: PNG, JPEG and BMP everywhere, plus
PNM (PPM/PGM/PBM) for files; anything else (GIF, TIFF, WebP, AVIF, JPEG 2000,
HDR, ...) is refused by name before OpenCV sees it. The size the header
declares is held to MAX_PIXELS before decoding, so a small file cannot make a
program allocate gigabytes; OpenCV's own limit (OPENCV_IO_MAX_IMAGE_PIXELS),
set to the same number, guards the decoder as well. What else lets a small
file cost the decoder much is refused too: a PNG chunk longer than the bytes
that follow (OpenCV allocates the declared length first), a Huffman-coded JPEG
with less than a bit for each 8x8 block (libjpeg decodes what is missing as
zeros, filling the whole picture), and a progressive JPEG of too many scans
(each one a pass over every block). Files must be regular files (no device or
FIFO) of at most MAX_FILE_BYTES, and are read as bytes, so any name a
filesystem can hold works.
"""

from fnmatch import fnmatchcase
import os
from pathlib import Path
import re
import stat
import struct

import cv2
from deeplab_ros.engine import MAX_PIXELS  # also OpenCV's own limit (set in engine/__init__)
import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.ppm', '.pgm', '.pbm', '.pnm')
FILE_FORMATS = ('PNG', 'JPEG', 'BMP', 'PNM')
COMPRESSED_FORMATS = ('JPEG', 'PNG')  # what image_transport's compressed plugin produces
MAX_FILE_BYTES = 512 * 1024 * 1024    # above an 8192x8192 BMP (192 MiB)
# libjpeg's progressive script writes 10 scans for color (6 for gray), a sequential image
# one per component at most: ten times that is generous, and a fifth of the 500 at which
# libjpeg-turbo's own tools stop.
MAX_JPEG_SCANS = 100
# The frame's pixels summed over its scans: 16 scans of the largest image, which cost
# (55 ms per scan at 8192x8192 here) about a third of what decoding it costs at all.
MAX_JPEG_SCAN_PIXELS = 16 * MAX_PIXELS
# SOF markers: baseline, extended, progressive, lossless; Huffman and arithmetic.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: no length field
_JPEG_ARITHMETIC = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Scan data ends at the first marker: 0xFF then neither a stuffed 0 nor RSTn nor fill.
_JPEG_SCAN_END = re.compile(rb'\xff[^\x00\xd0-\xd7\xff]')
# Formats OpenCV decodes that are refused, by their magic bytes, to name them.
_REFUSED = ((b'GIF8', 'GIF'), (b'II*\0', 'TIFF'), (b'MM\0*', 'TIFF'),
            (b'\0\0\0\x0cjP', 'JPEG 2000'), (b'\xffO\xffQ', 'JPEG 2000'),
            (b'#?RADIANCE', 'Radiance HDR'), (b'#?RGBE', 'Radiance HDR'), (b'v/1\x01', 'OpenEXR'),
            (b'\x59\xa6\x6a\x95', 'Sun raster'), (b'P7', 'PAM'), (b'PF', 'PFM'), (b'Pf', 'PFM'))


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


def image_format(data):
    """Name the format of encoded ``data`` by its magic bytes (None if unknown)."""
    head = bytes(data[:16])
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'PNG'
    if head.startswith(b'\xff\xd8\xff'):
        return 'JPEG'
    if head.startswith(b'BM'):
        return 'BMP'
    if head[:1] == b'P' and head[1:2] in b'123456' and head[2:3].isspace():
        return 'PNM'
    if head.startswith(b'RIFF') and head[8:12] == b'WEBP':
        return 'WebP'
    if head[4:8] == b'ftyp':
        return 'AVIF/HEIF'
    return next((name for magic, name in _REFUSED if head.startswith(magic)), None)


def _header_error(fmt, why):
    return ImageError('header', f'{fmt} header {why}')


def _png_size(data):
    if len(data) < 24 or bytes(data[12:16]) != b'IHDR':
        raise _header_error('PNG', 'does not start with IHDR')  # the PNG spec requires it
    return struct.unpack('>II', bytes(data[16:24]))


def _bmp_size(data):
    if len(data) < 26:
        raise _header_error('BMP', 'is cut short')
    (size,) = struct.unpack('<I', bytes(data[14:18]))
    if size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack('<HH', bytes(data[18:22]))
    width, height = struct.unpack('<ii', bytes(data[18:26]))
    return abs(width), abs(height)


def _next_marker(view, pos):
    found = _JPEG_SCAN_END.search(view, pos)
    return found.start() if found else len(view)


def _jpeg_segments(view, strict=True):
    """
    Yield ``(marker, position, length)`` of each segment up to EOI, scan data skipped.

    Bytes where a marker should be are refused if ``strict``, else skipped to the
    next marker, as libjpeg does (with a warning).
    """
    pos, end = 2, len(view)
    while pos < end:
        if view[pos] != 0xFF:
            if strict:
                raise _header_error('JPEG', f'has no marker at byte {pos}')
            pos = _next_marker(view, pos)
            continue
        while pos < end and view[pos] == 0xFF:  # fill bytes before a marker are legal
            pos += 1
        if pos >= end:
            return
        marker = view[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD9 or pos + 2 > end:
            return
        (length,) = struct.unpack('>H', view[pos:pos + 2])
        if length < 2:
            raise _header_error('JPEG', f'segment at byte {pos} has length {length}')
        yield marker, pos, length
        pos += length
        if marker == 0xDA:
            pos = _next_marker(view, pos)


def _jpeg_frame(view):
    """Return the frame header's marker and body, however far: fill bytes, long APPs skipped."""
    for marker, pos, length in _jpeg_segments(view):
        if marker == 0xDA:  # scan data before any frame header
            break
        if marker in _JPEG_SOF:
            if length < 8 or pos + 8 > len(view):
                raise _header_error('JPEG', 'frame header is cut short')
            return marker, view[pos + 2:pos + length]
    raise _header_error('JPEG', 'has no frame header (SOF)')


def _jpeg_size(data):
    height, width = struct.unpack('>HH', _jpeg_frame(memoryview(data))[1][1:5])
    if height == 0:
        raise _header_error('JPEG', 'leaves the height to a DNL marker (not accepted)')
    return width, height


def _jpeg_blocks(frame, width, height):
    """Return the 8x8 blocks of all the frame's components (0 if it lists none whole)."""
    components = [frame[i + 1] for i in range(6, len(frame) - 2, 3)][:frame[5]]
    if not components or len(components) < frame[5] or not all(c >> 4 and c & 15
                                                               for c in components):
        return 0  # libjpeg refuses such a frame before decoding
    h_max, v_max = max(c >> 4 for c in components), max(c & 15 for c in components)
    return sum(-(-width * (c >> 4) // (8 * h_max)) * -(-height * (c & 15) // (8 * v_max))
               for c in components)


def _check_jpeg(data, width, height):
    """Refuse a JPEG whose scans cost too much, or a Huffman-coded one too short to be whole."""
    view = memoryview(data)
    marker, frame = _jpeg_frame(view)
    blocks = _jpeg_blocks(frame, width, height)
    if marker not in _JPEG_ARITHMETIC and len(view) * 8 < blocks:  # a code is 1 bit or more
        raise ImageError('cut short', f'JPEG of {width}x{height} is {len(view)} bytes: too '
                                      f'short for its {blocks} blocks (at least a bit each)')
    scans = 0
    for segment, _, _ in _jpeg_segments(view, strict=False):
        scans += segment == 0xDA
        if scans > MAX_JPEG_SCANS:
            raise ImageError('scans', f'JPEG has over {MAX_JPEG_SCANS} scans (libjpeg writes '
                                      '10 in a progressive image)')
    if scans * width * height > MAX_JPEG_SCAN_PIXELS:
        raise ImageError('scans', f'JPEG of {width}x{height} in {scans} scans: over '
                                  f'{MAX_JPEG_SCAN_PIXELS} pixels to decode in all its scans')


def _check_png(data, width, height):
    """Refuse a chunk that declares more bytes than follow: OpenCV allocates them first."""
    view, pos = memoryview(data), 8
    while pos + 8 <= len(view):
        length, kind = struct.unpack('>I4s', view[pos:pos + 8])
        left = len(view) - pos - 12  # after this chunk's length, type and CRC
        if length > left:
            raise ImageError('cut short', f'PNG chunk {printable(kind)} at byte {pos} declares '
                                          f'{length} bytes, but {max(left, 0)} follow')
        if kind == b'IEND':  # what follows is not read
            break
        pos += 12 + length


def _pnm_size(data):
    """Return the width and height of a P1-P6 header, comments allowed."""
    tokens, pos, head = [], 2, bytes(data[:4096])
    while len(tokens) < 2 and pos < len(head):
        char = head[pos:pos + 1]
        if char == b'#':
            pos = head.find(b'\n', pos)
            pos = len(head) if pos < 0 else pos
        elif char.isspace():
            pos += 1
        else:
            start = pos
            while pos < len(head) and head[pos:pos + 1] not in b' \t\r\n\v\f#':
                pos += 1
            tokens.append(head[start:pos])
    if len(tokens) < 2 or not all(t.isdigit() and len(t) <= 9 for t in tokens):
        raise _header_error('PNM', 'has no width and height')
    return int(tokens[0]), int(tokens[1])


_SIZE_OF = {'PNG': _png_size, 'JPEG': _jpeg_size, 'BMP': _bmp_size, 'PNM': _pnm_size}
# What else each format's structure must satisfy before it is decoded (BMP and PNM keep
# to their size: OpenCV reads what their data holds, and allocates no more).
_STRUCTURE = {'PNG': _check_png, 'JPEG': _check_jpeg}


def declared_size(data):
    """Return ``(width, height)`` from the header of an accepted format, or None for others."""
    fmt = image_format(data)
    return _SIZE_OF[fmt](data) if fmt in _SIZE_OF else None


def decode_image(data, what='image', accepted=FILE_FORMATS):
    """
    Decode encoded bytes to a BGR array, or refuse them with an ImageError.

    The format must be one of ``accepted``, its header must declare a size
    within MAX_PIXELS and its structure must not ask for more work or memory than
    that size takes; None means the header was fine but the data undecodable.
    """
    fmt = image_format(data)
    if fmt not in accepted:
        raise ImageError('format', (f'{what} in {fmt} format is not accepted' if fmt else
                                    f'{what} in no known image format')
                         + f' (accepted: {", ".join(accepted)})')
    width, height = _SIZE_OF[fmt](data)
    check_size(width, height, what=what)
    if fmt in _STRUCTURE:
        _STRUCTURE[fmt](data, width, height)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is not None:
        check_size(image.shape[1], image.shape[0], what=what)
    return image


def read_file(path, limit=MAX_FILE_BYTES, what='file'):
    """
    Return the bytes of a regular file of at most ``limit`` bytes; OSError or ImageError.

    A device, FIFO or socket is refused before it is opened (reading /dev/zero or a
    FIFO would never end); ``path`` may be str, bytes or a Path of any name.
    """
    info = os.stat(path)
    name = printable(path)
    if not stat.S_ISREG(info.st_mode):
        raise ImageError('not a file', f'{what} {name} is not a regular file (a device, FIFO '
                                       'or socket)')
    if info.st_size > limit:
        raise ImageError('file size', f'{what} {name} is {info.st_size} bytes, over the limit '
                                      f'of {limit}')
    with open(path, 'rb') as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while read
        raise ImageError('file size', f'{what} {name} is over the limit of {limit} bytes')
    return data


def folder_images(folder: Path, pattern: str = '*') -> list:
    """Return the image files (by suffix) in ``folder`` whose name matches ``pattern``, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                  and fnmatchcase(p.name, pattern) and p.is_file())


def printable(path):
    """Return ``path`` as text any terminal or log takes (quoted and escaped if it must be)."""
    text = os.fsdecode(path)
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept as surrogates by Python
        return repr(text)
    return text if text.isprintable() else repr(text)


def read_image_file(path):
    """Read an image file as BGR (None if its data is undecodable); OSError or ImageError."""
    return decode_image(read_file(path, what='image'))
