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
Small files that declare huge images, one per format: the decoding gate's corpus.

``python test/image_bombs.py`` writes them to test/data/image_corpus (committed);
each is a few dozen bytes to a few KB and declares 30000x30000 or more. The
JPEG ones are legal variants a naive header reader misses.
"""

from pathlib import Path
import struct
import sys
import zlib

HUGE = 30000


def _png_chunk(kind, body):
    return (struct.pack('>I', len(body)) + kind + body
            + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))


def png(width=HUGE, height=HUGE):
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', header)
            + _png_chunk(b'IDAT', zlib.compress(b'\0' * 4096)) + _png_chunk(b'IEND', b''))


def _sof(marker, width=HUGE, height=HUGE):
    return (b'\xff' + bytes([marker]) + struct.pack('>HBHHB', 17, 8, height, width, 3)
            + b'\x01\x22\x00\x02\x11\x01\x03\x11\x01')


def jpeg_fill_bytes():
    """Return a JPEG with fill bytes (0xFF) before its SOF: legal, missed by a strict reader."""
    return b'\xff\xd8' + b'\xff' * 5 + _sof(0xC0)[1:] + b'\xff\xd9'


def jpeg_far_sof():
    """Return a JPEG whose SOF follows 70 KB of APP segments (past a 64 KB reader)."""
    app = b''.join(b'\xff\xe1' + struct.pack('>H', 35002) + b'\0' * 35000 for _ in range(2))
    return b'\xff\xd8' + app + _sof(0xC0) + b'\xff\xd9'


def jpeg_progressive():
    return b'\xff\xd8' + _sof(0xC2) + b'\xff\xd9'


def jpeg_arithmetic():
    return b'\xff\xd8' + _sof(0xC9) + b'\xff\xd9'


def bmp():
    info = struct.pack('<IiiHHIIiiII', 40, HUGE, HUGE, 1, 24, 0, 0, 0, 0, 0, 0)
    return b'BM' + struct.pack('<IHHI', 54 + 64, 0, 0, 54) + info + b'\0' * 64


def pnm():
    return b'P6\n# a comment\n30000 30000\n255\n' + b'\0' * 64


def gif():
    """Return a 35-byte GIF whose logical screen is 30000x30000."""
    return (b'GIF89a' + struct.pack('<HHBBB', HUGE, HUGE, 0, 0, 0)
            + b',' + struct.pack('<HHHHB', 0, 0, HUGE, HUGE, 0) + b'\x02\x02\x44\x01\x00;')


def tiff():
    """Return a deflate TIFF declaring 30000x30000 (tiny strips of zeros)."""
    data = zlib.compress(b'\0' * 8192)
    entries = [(256, 4, 1, HUGE), (257, 4, 1, HUGE), (258, 3, 1, 8), (259, 3, 1, 8),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, HUGE),
               (279, 4, 1, len(data))]
    ifd_at = 8 + len(data)
    ifd = struct.pack('<H', len(entries)) + b''.join(
        struct.pack('<HHII', tag, kind, count, value) for tag, kind, count, value in entries)
    return b'II*\0' + struct.pack('<I', ifd_at) + data + ifd + b'\0\0\0\0'


def webp():
    """Return a lossless WebP header declaring 16384x16384."""
    bits = (16384 - 1) | ((16384 - 1) << 14)
    body = b'VP8L' + struct.pack('<I', 5) + b'\x2f' + struct.pack('<I', bits) + b'\0'
    return b'RIFF' + struct.pack('<I', 4 + len(body)) + b'WEBP' + body


def hdr():
    return b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 30000 +X 30000\n' + b'\0' * 64


def jpeg2000():
    return b'\0\0\0\x0cjP  \r\n\x87\n' + b'\0' * 64


def avif():
    return b'\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf' + b'\0' * 64


BOMBS = {  # file name -> (bytes, the format the gate names)
    'bomb.png': (png(), 'PNG'), 'fill_bytes.jpg': (jpeg_fill_bytes(), 'JPEG'),
    'far_sof.jpg': (jpeg_far_sof(), 'JPEG'), 'progressive.jpg': (jpeg_progressive(), 'JPEG'),
    'arithmetic.jpg': (jpeg_arithmetic(), 'JPEG'), 'bomb.bmp': (bmp(), 'BMP'),
    'bomb.ppm': (pnm(), 'PNM'), 'bomb.gif': (gif(), 'GIF'), 'bomb.tiff': (tiff(), 'TIFF'),
    'bomb.webp': (webp(), 'WebP'), 'bomb.hdr': (hdr(), 'Radiance HDR'),
    'bomb.jp2': (jpeg2000(), 'JPEG 2000'), 'bomb.avif': (avif(), 'AVIF/HEIF'),
}
CORPUS = Path(__file__).resolve().parent / 'data' / 'image_corpus'


if __name__ == '__main__':
    CORPUS.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in BOMBS.items():
        (CORPUS / name).write_bytes(data)
    sys.exit(0)
