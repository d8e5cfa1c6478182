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
The layers keep their import rules.

engine and pipeline never load ROS (nor does any module whose docstring says it
needs none); pipeline never loads node, ros or tools; ros never loads node or
tools; nothing loads the tools.
"""

import ast

import json
import subprocess
import sys

from lint_paths import REPO
import pytest

PACKAGE = REPO / 'deeplab_ros'
ROS_TOP_LEVEL = ('rclpy', 'rcl_interfaces', 'rpyutils', 'launch', 'launch_ros',
                 'ament_index_python', 'builtin_interfaces', 'unique_identifier_msgs')
# Run in a fresh interpreter: which modules does importing each one add?
PROBE = """
import importlib, json, sys
added = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    added[name] = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""


def modules(layer):
    return [f'deeplab_ros.{layer}.{path.stem}' for path in sorted((PACKAGE / layer).glob('*.py'))
            if path.stem != '__init__']


def is_ros(module):
    top = module.split('.')[0]
    return (top in ROS_TOP_LEVEL or top.startswith('rosidl') or top.endswith(('_msgs', '_srvs'))
            or top.endswith('_interfaces'))


def imports_of(names):
    """Return {module: every module its import added}, each imported after the ones before it."""
    # One module per interpreter: an earlier import must not hide what a later one needs.
    found = {}
    for name in names:
        out = subprocess.run([sys.executable, '-c', PROBE, name], capture_output=True,
                             text=True, cwd=REPO, timeout=120)
        assert out.returncode == 0, out.stderr
        found.update(json.loads(out.stdout.splitlines()[-1]))
    return found


LAYERS = ('engine', 'pipeline', 'ros', 'node', 'tools')


def says_ros_free(module):
    path = PACKAGE.joinpath(*module.split('.')[1:]).with_suffix('.py')
    text = (ast.get_docstring(ast.parse(path.read_text())) or '').lower()
    return 'no ros' in text or 'free of ros' in text or 'ros-free' in text


ROS_FREE = sorted(set(modules('engine') + modules('pipeline'))
                  | {m for layer in LAYERS for m in modules(layer) if says_ros_free(m)})


def test_every_layer_has_its_modules_and_few_sit_at_the_top():
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / '__init__.py').is_file()} \
        == set(LAYERS)
    assert all(len(modules(layer)) >= 4 for layer in LAYERS)
    top = [p.name for p in PACKAGE.glob('*.py')]
    assert top == ['__init__.py'], top


@pytest.mark.parametrize('name', ROS_FREE)
def test_the_ros_free_modules_never_import_ros(name):
    added = imports_of([name])[name]
    assert [m for m in added if is_ros(m)] == [], f'{name} imports ROS'
    above = {'engine': ('deeplab_ros.pipeline', 'deeplab_ros.ros', 'deeplab_ros.node',
                        'deeplab_ros.tools'),
             'pipeline': ('deeplab_ros.ros', 'deeplab_ros.node', 'deeplab_ros.tools')}
    layer = name.split('.')[1]
    assert not [m for m in added if m.startswith(above.get(layer, ()))], (
        f'{name} imports a layer above it')


@pytest.mark.ros
def test_ros_never_imports_the_node_and_nothing_imports_the_tools():
    for name, added in imports_of(modules('ros') + modules('node')).items():
        assert not [m for m in added if m.startswith('deeplab_ros.tools')], name
        if name.startswith('deeplab_ros.ros'):
            assert not [m for m in added if m.startswith('deeplab_ros.node')], name


@pytest.mark.ros
def test_the_probe_sees_ros_when_it_is_there():
    """The rule above can fail: the node's modules do load rclpy."""
    added = imports_of(['deeplab_ros.node.deeplab_node'])['deeplab_ros.node.deeplab_node']
    assert 'rclpy' in added and 'sensor_msgs' in added
