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
Launch files: checked statically everywhere, loaded where launch_ros exists.

``launch`` and ``launch_ros`` are not on PyPI, so loading the descriptions
runs only on a machine with ROS 2 installed.
"""

import ast
import re

from deeplab_ros.node.dds_profile import profile_variable, use_large_image_profile
from lint_paths import REPO
import pytest

LAUNCH_FILES = sorted((REPO / 'launch').glob('*.launch.py'))


def entry_points():
    setup = (REPO / 'setup.py').read_text()
    return set(re.findall(r"'([\w-]+) = deeplab_ros\.", setup))


def test_launch_files_exist_and_parse():
    assert [p.name for p in LAUNCH_FILES] == ['deeplab.launch.py', 'webcam.launch.py']
    for path in LAUNCH_FILES:
        tree = ast.parse(path.read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
                   for n in tree.body), path


def test_every_executable_is_an_entry_point_or_usb_cam():
    sources = [p.read_text() for p in LAUNCH_FILES]
    sources.append((REPO / 'deeplab_ros' / 'tools' / 'launch_helpers.py').read_text())
    named = set(re.findall(r"executable='([\w-]+)'", '\n'.join(sources)))
    assert {'deeplab_node', 'camera_node', 'usb_cam_node_exe', 'rviz2'} <= named
    assert named - {'usb_cam_node_exe', 'rviz2'} <= entry_points()


def test_every_launch_argument_has_a_description():
    for path in [*LAUNCH_FILES, REPO / 'deeplab_ros' / 'tools' / 'launch_helpers.py']:
        for call in ast.walk(ast.parse(path.read_text())):
            if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == \
                    'DeclareLaunchArgument':
                keywords = {k.arg for k in call.keywords}
                assert 'description' in keywords, (path.name, ast.unparse(call)[:80])


def declared_arguments(path):
    """Names of the DeclareLaunchArgument calls in ``path`` (and the shared helpers)."""
    names = set()
    for source in (path, REPO / 'deeplab_ros' / 'tools' / 'launch_helpers.py'):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == \
                    'DeclareLaunchArgument' and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == \
                    'NODE_OVERRIDES':  # declared in a loop over this table
                names |= {key.value for key in node.value.keys}
    return names


COMMON_ARGUMENTS = {'namespace', 'use_sim_time', 'autostart', 'params_file', 'model_path',
                    'model_name', 'rate', 'device'}


def test_both_launch_files_take_namespace_sim_time_and_autostart():
    for path in LAUNCH_FILES:
        assert 'deeplab_arguments()' in path.read_text(), path.name
        assert COMMON_ARGUMENTS <= declared_arguments(path), path.name
    helpers = (REPO / 'deeplab_ros' / 'tools' / 'launch_helpers.py').read_text()
    assert "namespace=LaunchConfiguration('namespace')" in helpers
    assert "'autostart': LaunchConfiguration('autostart')" in helpers
    assert 'common_parameters()' in helpers


def test_webcam_launch_ends_when_the_camera_exits():
    tree = ast.parse((REPO / 'launch' / 'webcam.launch.py').read_text())
    cameras = [call for call in ast.walk(tree) if isinstance(call, ast.Call)
               and getattr(call.func, 'id', '') == 'Node'
               and any(k.arg == 'executable' and getattr(k.value, 'value', '') in
                       ('usb_cam_node_exe', 'camera_node') for k in call.keywords)]
    assert len(cameras) == 2
    for call in cameras:
        keywords = {k.arg: k.value for k in call.keywords}
        assert ast.unparse(keywords['on_exit']).startswith('Shutdown(')
        assert 'common_parameters()' in ast.unparse(keywords['parameters'])


def test_config_files_referenced_by_launch_exist():
    text = '\n'.join(p.read_text() for p in LAUNCH_FILES)
    for name in re.findall(r"share\('config', '([\w.]+)'\)", text):
        assert (REPO / 'config' / name).is_file(), name
    assert (REPO / 'config' / 'fastdds_large_images.xml').is_file()


def test_profile_variable_respects_the_user_and_the_distro():
    environ = {'ROS_DISTRO': 'jazzy'}
    use_large_image_profile(environ)
    profile = REPO / 'config' / 'fastdds_large_images.xml'
    assert environ['FASTRTPS_DEFAULT_PROFILES_FILE'] == str(profile)
    mine = {'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}
    use_large_image_profile(mine)
    assert mine == {'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}
    assert profile_variable({}) == 'FASTDDS_DEFAULT_PROFILES_FILE'
    assert profile_variable({'ROS_DISTRO': 'jazzy'}) == 'FASTRTPS_DEFAULT_PROFILES_FILE'
    assert profile_variable({'ROS_DISTRO': 'kilted'}) == 'FASTDDS_DEFAULT_PROFILES_FILE'
    assert profile_variable({'FASTRTPS_DEFAULT_PROFILES_FILE': '/mine.xml'}) is None
    assert profile_variable({'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}) is None


def load(path):
    pytest.importorskip('launch_ros', reason='launch_ros is not installed (not on PyPI); '
                                             'needs a ROS 2 install')
    from launch.launch_description_sources import get_launch_description_from_python_launch_file
    return get_launch_description_from_python_launch_file(str(path))


def test_webcam_launch_description():
    description = load(REPO / 'launch' / 'webcam.launch.py')
    arguments = {a.name for a in description.get_launch_arguments()}
    assert {'camera', 'video_device', 'image_width', 'image_height', 'framerate',
            'rviz'} | COMMON_ARGUMENTS <= arguments
    from launch_ros.actions import Node
    executables = {e.node_executable for e in description.entities if isinstance(e, Node)}
    assert {'usb_cam_node_exe', 'camera_node', 'rviz2'} <= executables


def test_deeplab_launch_description():
    description = load(REPO / 'launch' / 'deeplab.launch.py')
    arguments = {a.name for a in description.get_launch_arguments()}
    assert {'image'} | COMMON_ARGUMENTS <= arguments
