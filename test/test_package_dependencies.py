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

"""package.xml names real rosdep keys of Humble, Jazzy and Kilted, and all that is imported."""

import ast
import sys
import xml.etree.ElementTree as ET

from lint_paths import REPO
import pytest

pytestmark = pytest.mark.linter

ALL = frozenset({'humble', 'jazzy', 'kilted'})

# Every key package.xml uses -> (where rosdep finds it, the distros that have it), read from
# ros/rosdistro at commit 8468e88c (2026-08-22). A ROS package is a key of a distro when
# <distro>/distribution.yaml releases it (the release repository is named); a system key
# when rosdep/python.yaml has a rule for Ubuntu jammy (Humble) and noble (Jazzy, Kilted).
# A new dependency: look it up there and add it here.
ROSDEP_KEYS = {
    'ament_copyright': ('ament_lint', ALL),
    'ament_flake8': ('ament_lint', ALL),
    'ament_index_python': ('ament_index', ALL),
    'ament_pep257': ('ament_lint', ALL),
    'ament_xmllint': ('ament_lint', ALL),
    'diagnostic_msgs': ('common_interfaces', ALL),
    'launch': ('launch', ALL),
    'launch_ros': ('launch_ros', ALL),
    'lifecycle_msgs': ('rcl_interfaces', ALL),
    'rcl_interfaces': ('rcl_interfaces', ALL),
    'rclpy': ('rclpy', ALL),
    'ros2launch': ('launch_ros', ALL),
    'rviz2': ('rviz', ALL),
    'sensor_msgs': ('common_interfaces', ALL),
    'std_msgs': ('common_interfaces', ALL),
    'usb_cam': ('usb_cam', ALL),
    'vision_msgs': ('vision_msgs', ALL),
    # ubuntu: [<same name>] in python.yaml: every Ubuntu release
    'python3-hypothesis': ('python.yaml', ALL),
    'python3-numpy': ('python.yaml', ALL),
    'python3-opencv': ('python.yaml', ALL),
    'python3-pil': ('python.yaml', ALL),
    'python3-pytest': ('python.yaml', ALL),
    'python3-yaml': ('python.yaml', ALL),
}

# Imported Python modules whose rosdep key is not their name (ROS packages' is).
MODULE_KEYS = {'cv2': 'python3-opencv', 'hypothesis': 'python3-hypothesis',
               'numpy': 'python3-numpy', 'PIL': 'python3-pil', 'pytest': 'python3-pytest',
               'yaml': 'python3-yaml'}
# Imported, but not by a rosdep key: pip installs them into the venv (README, "With a ROS 2
# install"; rosdep/python.yaml has no key for either), and setuptools builds every
# ament_python package.
NOT_ROSDEP = {'ai_edge_litert', 'setuptools', 'tensorflow'}


def declared(*tags):
    """Return the dependency keys of package.xml under ``tags``."""
    root = ET.parse(REPO / 'package.xml').getroot()
    return {e.text for e in root if e.tag in tags}


def imported(folder):
    """Return the top-level names of the modules that the .py files of ``folder`` import."""
    names = set()
    for path in (REPO / folder).rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split('.')[0])
    return names - set(sys.stdlib_module_names)


def test_every_key_is_a_rosdep_key_of_humble_jazzy_and_kilted():
    for key in declared('depend', 'exec_depend', 'build_depend', 'test_depend',
                        'buildtool_depend', 'build_export_depend'):
        assert key in ROSDEP_KEYS, f'{key}: look it up in ros/rosdistro and add it here'
        assert ROSDEP_KEYS[key][1] >= ALL, key


def test_the_table_lists_only_keys_we_use():
    assert set(ROSDEP_KEYS) == declared('exec_depend', 'test_depend')


@pytest.mark.parametrize('folders, tags', [
    (['deeplab_ros', 'launch'], ['exec_depend']),
    (['test'], ['exec_depend', 'test_depend']),
])
def test_every_imported_package_is_declared(folders, tags):
    local = {'deeplab_ros'} | {p.stem for p in (REPO / 'test').glob('*.py')}
    modules = set().union(*map(imported, folders)) - local - NOT_ROSDEP
    keys = declared(*tags)
    missing = {m: MODULE_KEYS.get(m, m) for m in modules if MODULE_KEYS.get(m, m) not in keys}
    assert not missing, f'imported in {folders} but not a {tags} of package.xml: {missing}'
