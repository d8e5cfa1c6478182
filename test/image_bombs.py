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
each is a few dozen bytes to a few KB. Most declare 30000x30000 or more (the
JPEG ones in legal variants a naive header reader misses); the others keep to
the pixel limit but ask for gigabytes or seconds otherwise: a PNG chunk length
past the end, a JPEG cut short, a JPEG of hundreds of scans.
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


def _segment(marker, body):
    return b'\xff' + bytes([marker]) + struct.pack('>H', 2 + len(body)) + body


def _bits(codes):
    """Pack ``(value, bit count)`` codes as JPEG scan data: 1-padded, each 0xFF stuffed."""
    text = ''.join(format(value, f'0{count}b') for value, count in codes if count)
    text += '1' * (-len(text) % 8)
    return int(text, 2).to_bytes(len(text) // 8, 'big').replace(b'\xff', b'\xff\x00')


def _eob_runs(blocks):
    """Return AC scan data that ends every block at once: EOB runs of up to 32767 blocks."""
    codes = []
    while blocks:
        r = min(14, blocks.bit_length() - 1)
        run = min(blocks, (2 << r) - 1)
        codes += [(r, 4), (run - (1 << r), r)]  # EOBr's code is r in 4 bits (table below)
        blocks -= run
    return _bits(codes)


def _jpeg_head(width, height, components=1):
    """Return SOI, the tables and a progressive frame; DC differences and EOBr have codes."""
    return (b'\xff\xd8' + _segment(0xDB, b'\0' + b'\1' * 64)
            + _segment(0xC4, b'\x00\x01' + b'\0' * 15 + b'\0')  # DC: the 1-bit code 0 for 0
            + _segment(0xC4, b'\x10\0\0\0\x0f' + b'\0' * 12 + bytes(range(0, 0xF0, 0x10)))
            + _segment(0xC2, struct.pack('>BHHB', 8, height, width, components)
                       + b''.join(bytes([i + 1, 0x11, 0]) for i in range(components))))


def jpeg_scans(width, height, scans, repeat=False):
    """
    Return a progressive gray JPEG of ``scans`` scans: a flat gray picture (128).

    A DC scan, then per AC coefficient a first scan at point transform 13 and
    13 refinements (the most the standard allows), each an end-of-block run over
    every block: cheap to store, a pass over the whole picture to decode. With
    ``repeat``, one full-band AC scan is refined again and again (not legal, but
    decoded with a warning): the costliest scan there is, 63 coefficients a block.
    """
    blocks = -(-width // 8) * -(-height // 8)
    bands = ([(1, 63, 0, 1)] + [(1, 63, 1, 0)] * scans if repeat else
             [(k, k, high, high - 1 if high else 13)
              for k in range(1, 64) for high in (0, *range(13, 0, -1))])
    body = _segment(0xDA, b'\x01\x01\x00\x00\x00\x00') + _bits([(0, blocks)])  # 1 bit a block
    for start, stop, high, low in bands[:scans - 1]:
        body += (_segment(0xDA, b'\x01\x01\x00' + bytes([start, stop, high << 4 | low]))
                 + _eob_runs(blocks))
    return _jpeg_head(width, height) + body + b'\xff\xd9'


def jpeg_cut_short():
    """Return a 8192x8192 color JPEG cut after its headers: libjpeg decodes zeros (627 MB)."""
    return _jpeg_head(8192, 8192, 3) + _segment(0xDA, b'\x01\x01\x00\x00\x00\x00') + b'\xff\xd9'


def png_chunk_length(length=0x7FFFFFFF):
    """Return a 16x16 PNG whose IDAT declares ``length`` bytes (OpenCV allocated them)."""
    header = struct.pack('>IIBBBBB', 16, 16, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', header) + struct.pack('>I', length)
            + b'IDAT' + zlib.compress(b'\0' * 16 * 49)[:8])


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


BOMBS = {  # file name -> (bytes, the format the gate names, the kind of its refusal)
    'bomb.png': (png(), 'PNG', 'size'), 'fill_bytes.jpg': (jpeg_fill_bytes(), 'JPEG', 'size'),
    'far_sof.jpg': (jpeg_far_sof(), 'JPEG', 'size'),
    'progressive.jpg': (jpeg_progressive(), 'JPEG', 'size'),
    'arithmetic.jpg': (jpeg_arithmetic(), 'JPEG', 'size'), 'bomb.bmp': (bmp(), 'BMP', 'size'),
    'bomb.ppm': (pnm(), 'PNM', 'size'), 'bomb.gif': (gif(), 'GIF', 'format'),
    'bomb.tiff': (tiff(), 'TIFF', 'format'), 'bomb.webp': (webp(), 'WebP', 'format'),
    'bomb.hdr': (hdr(), 'Radiance HDR', 'format'), 'bomb.jp2': (jpeg2000(), 'JPEG 2000', 'format'),
    'bomb.avif': (avif(), 'AVIF/HEIF', 'format'),
    'chunk_length.png': (png_chunk_length(), 'PNG', 'cut short'),
    'cut_short.jpg': (jpeg_cut_short(), 'JPEG', 'cut short'),
    'many_scans.jpg': (jpeg_scans(256, 256, 500, repeat=True), 'JPEG', 'scans'),
}
CORPUS = Path(__file__).resolve().parent / 'data' / 'image_corpus'


if __name__ == '__main__':
    CORPUS.mkdir(parents=True, exist_ok=True)
    for name, (data, _, _) in BOMBS.items():
        (CORPUS / name).write_bytes(data)
    sys.exit(0)
