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
ROS parameters from one table of ``Spec``: declaration, descriptions, ranges, checks.

Every program of the package describes its parameters in such a table: one
table drives declaration, ``ros2 param describe`` texts, validation of
runtime changes, and the tests that keep the YAML files and README in step.
"""

from array import array
from dataclasses import dataclass

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.parameter import Parameter


@dataclass(frozen=True)
class Spec:
    """One parameter: its default and what ``ros2 param describe`` shows."""

    default: object
    description: str
    read_only: bool = False  # for a managed node: changeable only while unconfigured
    floating: tuple = None
    integer: tuple = None
    choices: tuple = None
    dynamic_typing: bool = False  # accept any type, e.g. a device given as 0 or /dev/video0

    def __post_init__(self):
        # Lists are dynamically typed: `[15]` arrives as an integer array, and `[]` from
        # the command line as a bool array; ``check`` says what a list may hold.
        if isinstance(self.default, list):
            object.__setattr__(self, 'dynamic_typing', True)


_TYPES = {str: ParameterType.PARAMETER_STRING, bool: ParameterType.PARAMETER_BOOL,
          int: ParameterType.PARAMETER_INTEGER, float: ParameterType.PARAMETER_DOUBLE}


def descriptor(spec, managed=False):
    """
    Return the ParameterDescriptor for ``spec`` (type, text, range, read-only).

    ``managed``: a lifecycle node reads its read-only parameters at configure,
    so they stay settable (the node refuses changes while it is configured).
    """
    text = spec.description
    if spec.choices:
        text += f" (one of: {', '.join(spec.choices)})"
    if spec.read_only:
        text += '; applied at configure' if managed else '; set at start-up'
    # A float parameter takes an integer too (`ros2 param set /deeplab rate 5`, `rate: 5` in
    # YAML): rclpy's type check would refuse it before any callback, so ``check`` does it.
    result = ParameterDescriptor(description=text, read_only=spec.read_only and not managed,
                                 dynamic_typing=spec.dynamic_typing or _is_float(spec))
    if not spec.dynamic_typing:
        result.type = _TYPES[type(spec.default)]
    if spec.floating:
        result.floating_point_range = [FloatingPointRange(from_value=spec.floating[0],
                                                          to_value=spec.floating[1])]
    if spec.integer:
        result.integer_range = [IntegerRange(from_value=spec.integer[0],
                                             to_value=spec.integer[1], step=1)]
    if spec.choices:
        result.additional_constraints = f"one of: {', '.join(spec.choices)}"
    return result


def _is_float(spec):
    return isinstance(spec.default, float)


def check_number(name, value, limits):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {str: 'text', bool: 'true/false', list: 'a list'}.get(type(value), 'that type')
        raise ValueError(f'{name} must be a number such as 5 or 5.0, got {kind}: {value!r}')
    if limits and not limits[0] <= value <= limits[1]:
        raise ValueError(f'{name} must be between {limits[0]} and {limits[1]}, got {value}')


def value_of(name, value, table):
    """Return ``value`` as the node uses it: floats as floats (even given as 5), lists tuples."""
    if name in table and _is_float(table[name]):
        return float(value)
    if name in table and isinstance(table[name].default, list):
        # A message's integer array arrives as an array.array; `[]` in a parameters
        # file sets nothing (the value is None): an empty list.
        return tuple(value or ())
    return value


def _check_list(name, value):
    """Refuse anything but a list of names or ids (an empty list of any type is empty)."""
    if not isinstance(value, (list, tuple, array)) or any(
            isinstance(item, bool) or not isinstance(item, (str, int)) for item in value):
        raise ValueError(f'{name} must be a list of names or numbers, e.g. [person] or [15] '
                         f'(or [] for none), got {value!r}')


def check(values, table):
    """
    Raise ValueError naming the first invalid value in ``{name: value}`` of ``table``.

    Ranges and read-only flags are enforced by rclpy from the descriptors;
    this checks what descriptors cannot express: numbers, choices, lists.
    """
    for name, value in values.items():
        if name not in table:
            continue
        if _is_float(table[name]):
            check_number(name, value, table[name].floating)
        choices = table[name].choices
        if choices and value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}, got '{value}'")
        if isinstance(table[name].default, list):
            # `[]` in a parameters file arrives as None; anything else must be a list.
            _check_list(name, () if value is None else value)


def declare(node, table, managed=False):
    """Declare every parameter of ``table`` on ``node`` (values are checked by ``read``)."""
    for name, spec in table.items():
        node.declare_parameter(name, spec.default, descriptor(spec, managed))


def read(node, table):
    """Return ``{name: value}`` of ``table``'s parameters; ValueError names a bad one."""
    values = {name: node.get_parameter(name).value for name in table}
    check(values, table)
    return {name: value_of(name, value, table) for name, value in values.items()}


def on_parameters(node, table, validate=None, apply=None):
    """
    Call ``validate(params)`` before a change and ``apply(params)`` once it is accepted.

    ``add_post_set_parameters_callback`` arrived in rclpy 3.7 (after Humble's
    3.3). Without it, ``apply`` runs inside the set callback once ``validate``
    (the node's only one) has accepted the change, so Humble behaves the same.
    Where rclpy has pre-set callbacks (Iron on), an integer given to a float
    parameter is stored as a double, so ``ros2 param get`` shows 5.0.
    """
    def accept(params):
        try:
            check({p.name: p.value for p in params}, table)
        except ValueError as err:
            return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def as_doubles(params):
        return [Parameter(p.name, Parameter.Type.DOUBLE, float(p.value))
                if isinstance(p.value, int) and not isinstance(p.value, bool)
                and p.name in table and _is_float(table[p.name]) else p for p in params]
    validate = validate or accept
    if hasattr(node, 'add_pre_set_parameters_callback'):
        node.add_pre_set_parameters_callback(as_doubles)
    post_set = getattr(node, 'add_post_set_parameters_callback', None)
    if post_set is not None:
        node.add_on_set_parameters_callback(validate)
        if apply is not None:
            post_set(apply)
        return

    def validate_then_apply(params):
        result = validate(params)
        if result.successful and apply is not None:
            apply(params)
        return result
    node.add_on_set_parameters_callback(validate_then_apply)
