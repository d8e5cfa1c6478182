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
The decoding gate: bombs refused before decoding, legal variants decoded, properties fuzzed.

``DEEPLAB_ROS_FUZZ_EXAMPLES`` sets how many examples each property tries
(CI runs a few hundred; run thousands by hand).
"""

import os
import struct
import subprocess
import sys

import cv2
from deeplab_ros.engine.image_files import declared_size, decode_image, ImageError, \
    MAX_JPEG_SCANS, MAX_PIXELS, read_file, read_image_file
from deeplab_ros.pipeline.cdr import parse_image, WireError
from hypothesis import given, HealthCheck, settings, strategies as st
import image_bombs
from image_bombs import BOMBS, CORPUS, jpeg_scans, png_chunk_length
from lint_paths import REPO
import numpy as np
import pytest

EXAMPLES = int(os.environ.get('DEEPLAB_ROS_FUZZ_EXAMPLES', '300'))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize('name', sorted(BOMBS))
def test_every_bomb_is_refused_before_decoding(name):
    data, fmt, kind = BOMBS[name]
    assert (CORPUS / name).read_bytes() == data, 'run python test/image_bombs.py'
    with pytest.raises(ImageError) as error:
        decode_image(data)
    assert error.value.kind == kind, error.value
    if kind == 'size':
        assert str(error.value).startswith('absurd image size ')
    elif kind == 'format':
        assert str(error.value) == (f'image in {fmt} format is not accepted (accepted: PNG, '
                                    'JPEG, BMP, PNM)')
    else:
        assert str(error.value).startswith(f'{fmt} ')


CORPUS_RUN = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))  # 1.5 GiB: any bomb fails
from deeplab_ros.engine.image_files import ImageError, read_image_file
for path in sys.argv[1:]:
    try:
        image = read_image_file(path)
        print(path, 'decoded', None if image is None else image.shape)
    except ImageError as err:
        print(path, 'refused', err.kind)
# VmHWM, this process's own peak: getrusage's ru_maxrss keeps the parent's across exec.
hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]
print('peak RSS MB', int(hwm.split()[1]) // 1024)
"""


def test_the_whole_corpus_passes_with_bounded_memory():
    files = sorted(str(p) for p in CORPUS.iterdir())
    out = subprocess.run([sys.executable, '-c', CORPUS_RUN, *files], capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert sum(' refused ' in line for line in lines) == len(files), out.stdout
    assert int(lines[-1].split()[-1]) < 1000  # MB: the libraries; a decoded bomb is 2.7 GB


def jpeg_of(image, *options):
    return cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 90, *options])[1].tobytes()


def test_legal_jpeg_variants_are_read_and_decoded(data_dir):
    photo = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    plain = jpeg_of(photo)
    expected = decode_image(plain)
    sof = next(i for i in range(2, len(plain) - 1)
               if plain[i] == 0xFF and plain[i + 1] in (0xC0, 0xC2))
    filled = plain[:sof] + b'\xff' * 7 + plain[sof:]                     # fill bytes
    app = b'\xff\xe1' + struct.pack('>H', 40002) + b'\0' * 40000
    far = plain[:2] + app * 2 + plain[2:]                                 # SOF past 64 KB
    for variant in (filled, far):
        assert declared_size(variant) == (photo.shape[1], photo.shape[0])
        np.testing.assert_array_equal(decode_image(variant), expected)
    progressive = jpeg_of(photo, cv2.IMWRITE_JPEG_PROGRESSIVE, 1)
    assert declared_size(progressive) == (photo.shape[1], photo.shape[0])
    assert decode_image(progressive).shape == photo.shape


def png_chunks(data):
    """Return the byte offset of each chunk of a PNG."""
    offsets, pos = [], 8
    while pos < len(data):
        offsets.append(pos)
        pos += 12 + struct.unpack('>I', data[pos:pos + 4])[0]
    return offsets


def with_length(data, at, length):
    return data[:at] + struct.pack('>I', length) + data[at + 4:]


def test_a_png_chunk_longer_than_what_follows_is_refused_unallocated():
    """Hardening III, 2: an IDAT declaring 2 or 4 GiB cost 2.1 or 4.1 GB and seconds."""
    for length in (0x7FFFFFFF, 0xFFFFFFF0):
        with pytest.raises(ImageError) as error:
            decode_image(png_chunk_length(length))
        assert str(error.value) == (f'PNG chunk IDAT at byte 33 declares {length} bytes, but 4 '
                                    'follow') and error.value.kind == 'cut short'
    image = np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3)
    png = cv2.imencode('.png', image)[1].tobytes()
    idat = png_chunks(png)[1]
    size, left = struct.unpack('>I', png[idat:idat + 4])[0], len(png) - idat - 12
    np.testing.assert_array_equal(decode_image(png), image)
    np.testing.assert_array_equal(decode_image(png + b'junk after IEND' * 9), image)
    assert decode_image(with_length(png, idat, left)) is None  # IEND lost in it: undecodable
    with pytest.raises(ImageError, match=f'chunk IDAT at byte {idat} declares {left + 1} bytes, '
                                         f'but {left} follow'):
        decode_image(with_length(png, idat, left + 1))
    with pytest.raises(ImageError, match=f'declares {size} bytes, but {size - 1} follow'):
        decode_image(png[:idat + 12 + size - 1])                    # cut inside the CRC
    with pytest.raises(ImageError, match=r'chunk IEND at byte \d+ declares 0 bytes, but -?\d'):
        decode_image(png[:-1])
    assert decode_image(png[:idat + 7]) is None  # too short for a chunk header: OpenCV's to see


def test_a_jpeg_too_short_for_its_blocks_is_refused():
    """Hardening III, 2: a 160-byte JPEG declaring 8192x8192 cost 627 MB (decoded as zeros)."""
    whole = jpeg_scans(2048, 2048, 1)   # 65536 blocks: a bit each is 8192 bytes
    assert np.unique(decode_image(whole)).tolist() == [128]
    with pytest.raises(ImageError) as error:
        decode_image(whole[:8189] + b'\xff\xd9')  # EOI: the rest would be decoded as zeros
    assert str(error.value) == ('JPEG of 2048x2048 is 8191 bytes: too short for its 65536 '
                                'blocks (at least a bit each)') and error.value.kind == 'cut short'
    assert np.unique(decode_image(whole[:8190] + b'\xff\xd9')).tolist() == [128]
    arithmetic = whole.replace(b'\xff\xc2', b'\xff\xca', 1)[:8191]  # codes under a bit
    assert declared_size(arithmetic) == (2048, 2048)
    decode_image(arithmetic)  # not refused for its length (OpenCV finds it undecodable)


def test_jpeg_scans_are_capped_and_their_work_is_bounded():
    """Hardening III, 3: 1000 scans over an 8192x8192 picture stopped the node for 78 s."""
    bomb = jpeg_scans(8192, 8192, 1000, repeat=True)
    with pytest.raises(ImageError) as error:
        decode_image(bomb)
    assert str(error.value) == 'JPEG has over 100 scans (libjpeg writes 10 in a progressive image)'
    assert error.value.kind == 'scans'
    assert np.unique(decode_image(jpeg_scans(64, 48, MAX_JPEG_SCANS))).tolist() == [128]
    with pytest.raises(ImageError, match='JPEG has over 100 scans'):
        decode_image(jpeg_scans(64, 48, MAX_JPEG_SCANS + 1))
    junk = jpeg_scans(64, 48, MAX_JPEG_SCANS + 1).replace(b'\xff\xda', b'junk\xff\xda')
    with pytest.raises(ImageError, match='JPEG has over 100 scans'):  # libjpeg skips junk too
        decode_image(junk)
    # 16 scans of the largest picture: 4096x4096 takes 64, 8192x8192 16.
    assert np.unique(decode_image(jpeg_scans(4096, 4096, 64))).tolist() == [128]
    for side, scans in ((4096, 65), (8192, 17)):
        with pytest.raises(ImageError) as error:
            decode_image(jpeg_scans(side, side, scans))
        assert str(error.value) == (f'JPEG of {side}x{side} in {scans} scans: over 1073741824 '
                                    'pixels to decode in all its scans')


def test_devices_fifos_and_huge_files_are_refused_unopened(tmp_path):
    with pytest.raises(ImageError, match='is not a regular file'):
        read_image_file('/dev/zero')
    fifo = tmp_path / 'fifo.png'
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match='is not a regular file'):
        read_image_file(fifo)                  # would block forever if opened
    sparse = tmp_path / 'huge.png'
    with open(sparse, 'wb') as handle:
        handle.truncate(600 << 20)
    with pytest.raises(ImageError, match=r'is 629145600 bytes, over the limit of 536870912'):
        read_image_file(sparse)
    with pytest.raises(ImageError, match='over the limit of 10'):
        read_file(tmp_path / 'huge.png', limit=10)


HEADERS = st.sampled_from([
    lambda w, h: image_bombs.png(w, h), lambda w, h: image_bombs._sof(0xC0, w, h),
    lambda w, h: b'BM' + struct.pack('<IHHIIii', 0, 0, 0, 54, 40, w, h),
    lambda w, h: f'P5 {w} {h} 255 '.encode(),
])


def within_limits_or_refused(data):
    try:
        image = decode_image(data)
    except ImageError as err:
        assert err.kind and str(err)
        return
    if image is not None:
        assert image.ndim == 3 and image.shape[0] * image.shape[1] <= MAX_PIXELS


@FUZZ
@given(HEADERS, st.integers(0, 70000), st.integers(0, 70000), st.binary(max_size=512),
       st.integers(0, 600))
def test_any_declared_size_and_body_is_decoded_within_limits_or_refused(header, width, height,
                                                                        body, cut):
    data = header(min(width, 0xffff), min(height, 0xffff)) + body
    within_limits_or_refused(data[:len(data) - cut] if cut < len(data) else data)


@FUZZ
@given(st.sampled_from([b'', b'\x89PNG\r\n\x1a\n', b'\xff\xd8\xff', b'BM', b'P6 ', b'GIF89a',
                        b'II*\0', b'\xff\xd8\xff\xff\xff']), st.binary(max_size=1024))
def test_any_bytes_are_decoded_within_limits_or_refused(magic, body):
    within_limits_or_refused(magic + body)


PHOTO_PNG = cv2.imencode('.png', np.arange(40 * 30 * 3, dtype=np.uint8).reshape(30, 40, 3),
                         [cv2.IMWRITE_PNG_COMPRESSION, 0])[1].tobytes()


@FUZZ
@given(st.integers(0, len(png_chunks(PHOTO_PNG)) - 1), st.integers(0, 2 ** 32 - 1),
       st.integers(0, 64))
def test_any_png_chunk_length_is_decoded_within_limits_or_refused(chunk, length, cut):
    at = png_chunks(PHOTO_PNG)[chunk]
    data = with_length(PHOTO_PNG, at, length)[:len(PHOTO_PNG) - cut]
    if at + 8 <= len(data) and length > len(data) - at - 12:  # too long, or cut before it
        with pytest.raises(ImageError, match=r'PNG chunk \w+ at byte \d+ declares \d+ bytes'):
            decode_image(data)
    else:
        within_limits_or_refused(data)


# At least two blocks: the libjpeg-turbo of OpenCV 4.6 (Jazzy) refuses our synthetic
# end-of-block runs over a single block, which OpenCV 5's decodes.
@FUZZ
@given(st.integers(9, 300), st.integers(9, 300), st.integers(1, 2 * MAX_JPEG_SCANS),
       st.booleans(), st.integers(0, 2 ** 16 - 1), st.integers(0, 4096))
def test_any_scan_count_and_segment_length_is_decoded_within_limits_or_refused(
        width, height, scans, repeat, length, at):
    data = jpeg_scans(width, height, scans, repeat)
    if scans > MAX_JPEG_SCANS:
        with pytest.raises(ImageError, match='over 100 scans'):
            decode_image(data)
    else:
        assert np.unique(decode_image(data)).tolist() == [128]
    markers = [i for i in range(2, len(data) - 3) if data[i] == 0xFF and data[i + 1] not in
               (0x00, 0xD8, 0xD9)]
    at = markers[at % len(markers)] + 2       # one segment's length, then anything
    within_limits_or_refused(data[:at] + struct.pack('>H', length) + data[at + 2:])


@FUZZ
@given(st.binary(max_size=256), st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1),
       st.integers(0, 2 ** 32 - 1), st.sampled_from(['rgb8', 'bgr8', 'mono8', 'yuv422', 'x' * 64]))
def test_any_serialized_image_is_parsed_or_refused(tail, height, width, step, encoding):
    """The raw-frame parser on serialized messages with any fields, cut anywhere."""
    text = encoding.encode() + b'\0'
    raw = (b'\x00\x01\x00\x00' + struct.pack('<iI', 1, 2) + struct.pack('<I', 2) + b'f\0\0\0'
           + struct.pack('<II', height, width) + struct.pack('<I', len(text)) + text)
    raw += b'\0'                          # is_bigendian, then step aligned to 4
    raw += b'\0' * (-(len(raw) - 4) % 4) + struct.pack('<II', step, len(tail)) + tail
    for cut in (len(raw), len(raw) // 2, 10):
        try:
            view = parse_image(raw[:cut])
        except WireError:
            continue
        assert view.height == height and view.width == width and len(view.data) == len(tail)


@pytest.mark.ros
@FUZZ
@given(st.integers(0, 70000), st.integers(0, 70000), st.integers(0, 2 ** 20),
       st.sampled_from(['rgb8', 'bgra8', 'mono8', 'mono16', 'yuv422', 'yuv422_yuy2', '32FC1',
                        'bayer_rggb8', '']),
       st.integers(0, 4096), st.booleans())
def test_any_raw_frame_becomes_an_image_within_limits_or_one_clear_error(
        height, width, step, encoding, length, big_endian):
    from deeplab_ros.pipeline.cdr import Header, ImageView
    from deeplab_ros.ros.image_encoding import image_to_array
    view = ImageView(Header(), height, width, encoding, int(big_endian), step,
                     memoryview(bytes(min(length, 4096))))
    try:
        image, order = image_to_array(view)
    except ImageError as err:
        assert err.kind and str(err)
        return
    assert image.shape[:2] == (height, width) and height * width <= MAX_PIXELS
    assert order in ('rgb', 'bgr') and image.shape[2] == 3
