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

"""colcon-readiness: setup.py installs what an ament_python package must install."""

import os
import runpy
from unittest import mock
import xml.etree.ElementTree as ET

from lint_paths import REPO
import pytest
import setuptools


@pytest.fixture(scope='module')
def distribution():
    """setup()'s arguments, as setup.py passes them (no distutils: gone from Python 3.12)."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with mock.patch.object(setuptools, 'setup') as setup:
            runpy.run_path('setup.py')
        return setup.call_args.kwargs
    finally:
        os.chdir(cwd)


def installed(distribution):
    """Map of install folder -> file names from data_files."""
    return {folder: [os.path.basename(f) for f in files]
            for folder, files in distribution['data_files']}


def test_name_and_version_match_package_xml(distribution):
    root = ET.parse(REPO / 'package.xml').getroot()
    assert distribution['name'] == root.find('name').text == 'deeplab_ros'
    assert distribution['version'] == root.find('version').text


def test_every_subpackage_is_installed(distribution):
    assert sorted(distribution['packages']) == [
        'deeplab_ros', 'deeplab_ros.engine', 'deeplab_ros.node', 'deeplab_ros.tools']


def test_ament_index_marker_and_package_xml_installed(distribution):
    files = installed(distribution)
    assert files['share/ament_index/resource_index/packages'] == ['deeplab_ros']
    assert (REPO / 'resource' / 'deeplab_ros').is_file()
    assert 'package.xml' in files['share/deeplab_ros']


def test_launch_and_config_installed_to_share(distribution):
    files = installed(distribution)
    assert sorted(files['share/deeplab_ros/launch']) == sorted(
        p.name for p in (REPO / 'launch').glob('*.launch.py'))
    shipped = [p.name for p in (REPO / 'config').iterdir()
               if p.suffix in ('.yaml', '.xml', '.rviz')]
    assert sorted(files['share/deeplab_ros/config']) == sorted(shipped)


def test_scripts_go_to_lib_for_ros2_run():
    cfg = (REPO / 'setup.cfg').read_text()
    assert 'script_dir=$base/lib/deeplab_ros' in cfg
    assert 'install_scripts=$base/lib/deeplab_ros' in cfg
