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
Serialized (CDR) ``sensor_msgs/Image`` read and written, and ``PointCloud2`` written (no ROS).

The node takes and publishes serialized messages: the frame it processes is
read as a zero-copy view instead of being deserialized into Python, and an
output image or cloud is one ``bytes`` join. Plain
little-endian CDR, what ROS 2's DDS layers send, is handled here;
``parse_image`` returns None for anything else so the caller can fall back to
rclpy's deserializer.
"""

from dataclasses import dataclass
import struct

import numpy as np

_CDR_LE = b'\x00\x01'  # encapsulation kind: plain CDR, little endian


class WireError(ValueError):
    """A serialized image that is cut short or malformed."""


@dataclass(frozen=True)
class Header:
    """``std_msgs/Header``: stamp and frame id."""

    sec: int = 0
    nanosec: int = 0
    frame_id: str = ''

    @property
    def nanoseconds(self):
        return self.sec * 1_000_000_000 + self.nanosec


@dataclass(frozen=True)
class ImageView:
    """The fields of a ``sensor_msgs/Image``; ``data`` is a view into the received buffer."""

    header: Header
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview


class _Reader:
    """Reads CDR fields from ``buffer``; alignment counts from after the 4-byte encapsulation."""

    def __init__(self, buffer):
        self.buffer = buffer
        self.offset = 4

    def _align(self, size):
        self.offset += -(self.offset - 4) % size

    def unpack(self, fmt, size, align=4):
        self._align(align)
        try:
            values = struct.unpack_from(fmt, self.buffer, self.offset)
        except struct.error as err:
            raise WireError(f'serialized image cut short at byte {self.offset}') from err
        self.offset += size
        return values

    def string(self):
        (length,) = self.unpack('<I', 4)
        raw = self.take(length)
        return bytes(raw[:-1] if length else raw).decode('utf-8', 'replace')

    def take(self, length):
        if self.offset + length > len(self.buffer):
            raise WireError(f'serialized image cut short: {length} bytes wanted at byte '
                            f'{self.offset} of {len(self.buffer)}')
        view = self.buffer[self.offset:self.offset + length]
        self.offset += length
        return view


def parse_image(raw):
    """Return an ``ImageView`` of serialized ``raw`` bytes, or None if not plain CDR LE."""
    buffer = memoryview(raw)
    if bytes(buffer[:2]) != _CDR_LE:
        return None
    reader = _Reader(buffer)
    sec, nanosec = reader.unpack('<iI', 8)
    frame_id = reader.string()
    height, width = reader.unpack('<II', 8)
    encoding = reader.string()
    (is_bigendian,) = reader.unpack('<B', 1, align=1)
    step, length = reader.unpack('<II', 8)
    return ImageView(Header(sec, nanosec, frame_id), height, width, encoding, is_bigendian,
                     step, reader.take(length))


def _string(text, offset):
    """CDR string at body ``offset`` (4-aligned): length, bytes, NUL."""
    raw = text.encode() + b'\0'
    return struct.pack('<I', len(raw)) + raw, offset + 4 + len(raw)


def serialize_image(header, array, encoding):
    """Serialize a uint8 HxW or HxWxC ``array`` as a ``sensor_msgs/Image`` (CDR LE)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = array.shape[:2]
    step = width * (array.shape[2] if array.ndim == 3 else 1)
    frame_id, offset = _string(header.frame_id, 8)
    parts = [b'\x00\x01\x00\x00', struct.pack('<iI', header.sec, header.nanosec), frame_id]
    pad = -offset % 4
    encoding_bytes, offset = _string(encoding, offset + pad + 8)
    parts += [b'\0' * pad, struct.pack('<II', height, width), encoding_bytes, b'\0']
    offset += 1
    parts += [b'\0' * (-offset % 4), struct.pack('<II', step, array.nbytes), array.data]
    return b''.join(parts)


class _Writer:
    """CDR little-endian fields; alignment counts from after the 4-byte encapsulation."""

    def __init__(self):
        self.parts = [b'\x00\x01\x00\x00']
        self.offset = 0

    def put(self, fmt, *values, align=4):
        pad = -self.offset % align
        packed = struct.pack('<' + fmt, *values)
        self.parts += [b'\0' * pad, packed]
        self.offset += pad + len(packed)

    def string(self, text):
        raw = text.encode() + b'\0'
        self.put('I', len(raw))
        self.parts.append(raw)
        self.offset += len(raw)

    def raw(self, data):
        self.put('I', data.nbytes)
        self.parts.append(data)
        self.offset += data.nbytes


# sensor_msgs/PointField datatypes
POINT_FIELD_TYPES = {'float32': 7, 'uint32': 6}


def serialize_point_cloud(header, points, frame_id):
    """
    Serialize a structured numpy array as a ``sensor_msgs/PointCloud2`` (CDR LE).

    1-D ``points`` make an unordered cloud of valid points (height 1, ``is_dense``);
    2-D ones an organized cloud, height x width, whose invalid points are NaN (not
    ``is_dense``). ``header`` gives the stamp; ``frame_id`` is the cloud's frame (the
    depth's). The points are copied once, into the message's bytes, which rclpy's
    ``publish`` needs (``bytes``, not any buffer).
    """
    height, width = points.shape if points.ndim == 2 else (1, len(points))
    writer = _Writer()
    writer.put('iI', header.sec, header.nanosec)
    writer.string(frame_id)
    writer.put('II', height, width)
    names = points.dtype.names
    writer.put('I', len(names))
    for name in names:
        kind, offset = points.dtype.fields[name][:2]
        writer.string(name)
        writer.put('I', offset)
        writer.put('B', POINT_FIELD_TYPES[kind.name], align=1)
        writer.put('I', 1)
    writer.put('B', 0, align=1)                       # is_bigendian
    step = points.dtype.itemsize
    writer.put('II', step, step * width)             # point_step, row_step
    writer.raw(np.ascontiguousarray(points).reshape(-1).view(np.uint8))
    writer.put('B', points.ndim == 1, align=1)       # is_dense
    return b''.join(writer.parts)
