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

"""colcon and bloom readiness: what setup.py installs, LICENSE and CHANGELOG.rst."""

import datetime
import os
import re
import runpy
import shutil
from unittest import mock
import xml.etree.ElementTree as ET

from lint_paths import REPO
import pytest
import setuptools


def setup_arguments(folder):
    """setup()'s arguments, as setup.py passes them in ``folder`` (colcon runs it there)."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with mock.patch.object(setuptools, 'setup') as setup:
            runpy.run_path('setup.py')
        return setup.call_args.kwargs
    finally:
        os.chdir(cwd)


@pytest.fixture(scope='module')
def distribution():
    """setup()'s arguments for this tree (no distutils: gone from Python 3.12)."""
    return setup_arguments(REPO)


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
        'deeplab_ros', 'deeplab_ros.engine', 'deeplab_ros.node', 'deeplab_ros.pipeline',
        'deeplab_ros.ros', 'deeplab_ros.tools']


def test_ament_index_marker_and_package_xml_installed(distribution):
    files = installed(distribution)
    assert files['share/ament_index/resource_index/packages'] == ['deeplab_ros']
    assert (REPO / 'resource' / 'deeplab_ros').is_file()
    assert 'package.xml' in files['share/deeplab_ros']


def test_every_launch_and_config_file_installed_to_share(distribution):
    files = installed(distribution)
    for folder in ('launch', 'config'):
        on_disk = sorted(p.name for p in (REPO / folder).iterdir()
                         if p.is_file() and not p.name.startswith('.'))
        assert files['share/deeplab_ros/' + folder] == on_disk
    assert {'deeplab.launch.py', 'webcam.launch.py'} <= set(files['share/deeplab_ros/launch'])
    assert {'deeplab.rviz', 'deeplab.yaml', 'usb_cam.yaml', 'fastdds_large_images.xml'} <= set(
        files['share/deeplab_ros/config'])


def test_a_new_launch_or_config_file_is_installed_without_editing_setup_py(tmp_path):
    shutil.copy(REPO / 'setup.py', tmp_path)
    for folder in ('launch', 'config'):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / 'launch' / 'cameras.launch.xml').write_text('<launch/>')
    (tmp_path / 'config' / 'night.rviz').write_text('Panels: []')
    (tmp_path / 'launch' / '__pycache__').mkdir(exist_ok=True)  # a folder is not a file to install
    files = installed(setup_arguments(tmp_path))
    assert 'cameras.launch.xml' in files['share/deeplab_ros/launch']
    assert '__pycache__' not in files['share/deeplab_ros/launch']
    assert 'night.rviz' in files['share/deeplab_ros/config']


def test_test_requirements_are_an_extra_not_tests_require(distribution):
    # setuptools 72 dropped the test command: tests_require is an unknown option now.
    assert 'tests_require' not in distribution
    assert set(distribution['extras_require']['test']) == {'hypothesis', 'pytest', 'PyYAML'}


def test_license_is_apache_2_and_installed_beside_package_xml(distribution):
    text = (REPO / 'LICENSE').read_text()
    assert text.split()[:4] == ['Apache', 'License', 'Version', '2.0,']
    assert 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    license_tag = ET.parse(REPO / 'package.xml').getroot().find('license')
    assert (license_tag.text, license_tag.get('file')) == ('Apache-2.0', 'LICENSE')
    assert distribution['license'] == 'Apache-2.0'
    # The file attribute is relative to package.xml, also where package.xml is installed.
    assert 'LICENSE' in installed(distribution)['share/deeplab_ros']


# catkin_pkg's changelog format, as bloom reads it: a title, then per release a heading
# 'x.y.z (YYYY-MM-DD)' (or 'Forthcoming', newest first) underlined with '-', then bullets.
CHANGELOG_TITLE = 'Changelog for package deeplab_ros'
RELEASE_HEADING = re.compile(r'(\d+\.\d+\.\d+) \((\d{4}-\d{2}-\d{2})\)')


def changelog_sections():
    """Map of section heading -> its bullet lines, in file order."""
    lines = (REPO / 'CHANGELOG.rst').read_text().splitlines()
    assert lines[:3] == ['^' * len(CHANGELOG_TITLE), CHANGELOG_TITLE, '^' * len(CHANGELOG_TITLE)]
    sections = {}
    for above, line, below in zip([''] + lines, lines, lines[1:] + ['']):
        if below and set(below) == {'-'} and not above:
            assert len(below) == len(line), f'underline of {line!r}'
            sections[line] = []
        elif line.startswith('* '):
            sections[list(sections)[-1]].append(line)
    return sections


def test_changelog_has_a_dated_entry_per_version_and_forthcoming_first():
    sections = changelog_sections()
    headings = list(sections)
    assert headings[0] == 'Forthcoming'
    releases = [RELEASE_HEADING.fullmatch(heading) for heading in headings[1:]]
    assert releases and all(releases), headings
    version = ET.parse(REPO / 'package.xml').getroot().find('version').text
    assert releases[0].group(1) == version  # the newest release is package.xml's version
    dates = [datetime.date.fromisoformat(release.group(2)) for release in releases]
    assert dates == sorted(dates, reverse=True)
    assert all(sections[heading] for heading in headings), 'a section without bullets'


def test_bloom_reads_the_changelog():
    changelog = pytest.importorskip(
        'catkin_pkg.changelog', reason='catkin_pkg (what bloom reads the changelog with) is '
        'not installed: pip install catkin_pkg')
    parsed = changelog.get_changelog_from_path(str(REPO / 'CHANGELOG.rst'), 'deeplab_ros')
    version = ET.parse(REPO / 'package.xml').getroot().find('version').text
    assert [v for v, _, _ in parsed.foreach_version()] == [version]
    date = parsed.get_date_of_version(version).date().isoformat()
    bullets = [b for items in parsed.get_content_of_version(version) for b in items.bullets]
    assert len(bullets) == len(changelog_sections()[f'{version} ({date})'])


def test_scripts_go_to_lib_for_ros2_run():
    cfg = (REPO / 'setup.cfg').read_text()
    assert 'script_dir=$base/lib/deeplab_ros' in cfg
    assert 'install_scripts=$base/lib/deeplab_ros' in cfg
