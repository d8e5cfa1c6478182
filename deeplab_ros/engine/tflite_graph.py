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
The few parts of a ``.tflite`` file's graph the confidence needs, read and edited in place.

A .tflite file is a FlatBuffer (schema: LiteRT's ``schema.fbs``). The class
scores of a DeepLab model sit before its ``ARG_MAX``; ``with_outputs`` makes
that tensor a real output of the graph, so the interpreter keeps it without
its slow debug option. Only the first subgraph's operators, tensor names and
output list are read: no FlatBuffers package, no runtime's private module.
Call these only on bytes an interpreter has accepted (it verifies the file).
"""

from dataclasses import dataclass
import struct

# BuiltinOperator codes (schema.fbs).
ARG_MAX = 56
RESIZE_BILINEAR = 23
# Tables' field numbers (schema.fbs).
MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS = 1, 2
SUBGRAPH_TENSORS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS = 0, 2, 3
TENSOR_NAME = 3
RESIZE_ALIGN_CORNERS, RESIZE_HALF_PIXEL_CENTERS = 2, 3


class _Table:
    """A FlatBuffer table at ``pos`` in ``data``."""

    def __init__(self, data, pos):
        self.data, self.pos = data, pos
        self._vtable = pos - struct.unpack_from('<i', data, pos)[0]
        self._vtable_size = struct.unpack_from('<H', data, self._vtable)[0]

    def field(self, number):
        """Return the position of field ``number``, or None when it is absent."""
        entry = 4 + 2 * number
        if entry >= self._vtable_size:
            return None
        offset = struct.unpack_from('<H', self.data, self._vtable + entry)[0]
        return self.pos + offset if offset else None

    def scalar(self, number, fmt, default=0):
        where = self.field(number)
        return default if where is None else struct.unpack_from(fmt, self.data, where)[0]

    def _target(self, number):
        where = self.field(number)
        return None if where is None else where + struct.unpack_from('<I', self.data, where)[0]

    def table(self, number):
        where = self._target(number)
        return None if where is None else _Table(self.data, where)

    def ints(self, number):
        where = self._target(number)
        if where is None:
            return []
        count = struct.unpack_from('<I', self.data, where)[0]
        return list(struct.unpack_from(f'<{count}i', self.data, where + 4))

    def tables(self, number):
        where = self._target(number)
        if where is None:
            return []
        count = struct.unpack_from('<I', self.data, where)[0]
        items = (where + 4 + 4 * i for i in range(count))
        return [_Table(self.data, p + struct.unpack_from('<I', self.data, p)[0]) for p in items]

    def string(self, number):
        where = self._target(number)
        if where is None:
            return ''
        size = struct.unpack_from('<I', self.data, where)[0]
        return bytes(self.data[where + 4:where + 4 + size]).decode('utf-8', 'replace')


@dataclass(frozen=True)
class Operator:
    """One operator: its builtin code, input and output tensor indices, and its options."""

    code: int
    inputs: list
    outputs: list
    options: _Table


def _subgraph(data):
    model = _Table(data, struct.unpack_from('<I', data, 0)[0])
    return model, model.tables(MODEL_SUBGRAPHS)[0]


def operators(data):
    """Return the first subgraph's operators, in execution order."""
    model, subgraph = _subgraph(data)
    # Codes over 127 live in builtin_code (field 3); older files use the int8 field 0.
    codes = [max(c.scalar(0, '<b'), c.scalar(3, '<i')) for c in model.tables(MODEL_OPERATOR_CODES)]
    return [Operator(codes[op.scalar(0, '<I')], op.ints(1), op.ints(2), op.table(4))
            for op in subgraph.tables(SUBGRAPH_OPERATORS)]


def tensor_names(data):
    """Return the first subgraph's tensor names, by index."""
    return [t.string(TENSOR_NAME) for t in _subgraph(data)[1].tables(SUBGRAPH_TENSORS)]


def with_outputs(data, outputs):
    """
    Return a copy of the model whose first subgraph outputs the tensors ``outputs``.

    The new list is appended at the end and the subgraph's reference is moved
    to it (FlatBuffer references point forward, so the end is always
    reachable); nothing else in the file changes.
    """
    _, subgraph = _subgraph(data)
    where = subgraph.field(SUBGRAPH_OUTPUTS)
    edited = bytearray(data)
    edited.extend(bytes(-len(edited) % 4))
    struct.pack_into('<I', edited, where, len(edited) - where)
    edited.extend(struct.pack(f'<I{len(outputs)}i', len(outputs), *outputs))
    return bytes(edited)
