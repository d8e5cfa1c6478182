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

"""package.xml and the shipped XML files are well formed; package.xml is format 3 and complete."""

import xml.etree.ElementTree as ET

from lint_paths import REPO
import pytest


@pytest.mark.linter
@pytest.mark.xmllint
def test_xml_files_are_well_formed():
    for path in [REPO / 'package.xml', *sorted((REPO / 'config').glob('*.xml'))]:
        ET.parse(path)  # raises ParseError naming the line


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml_format_3():
    root = ET.parse(REPO / 'package.xml').getroot()
    assert root.tag == 'package' and root.get('format') == '3'
    for tag in ('name', 'version', 'description', 'maintainer', 'license'):
        assert root.find(tag) is not None and root.find(tag).text.strip(), tag
    assert root.find('name').text == 'deeplab_ros'
    assert root.find('license').text == 'Apache-2.0'
    assert root.find('export/build_type').text == 'ament_python'
    assert (REPO / root.find('license').get('file')).is_file()
    exec_deps = {e.text for e in root.findall('exec_depend')}
    assert {'rclpy', 'rcl_interfaces', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs',
            'vision_msgs', 'launch', 'launch_ros', 'python3-numpy', 'python3-opencv'} <= exec_deps
    assert {'python3-hypothesis', 'python3-pytest', 'python3-yaml'} <= {
        e.text for e in root.findall('test_depend')}
    keys = [e.text for e in root if e.tag.endswith('depend')]
    assert len(keys) == len(set(keys)), 'a key declared twice'


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml_urls_are_real_addresses():
    for url in ET.parse(REPO / 'package.xml').getroot().findall('url'):
        assert url.get('type') in ('website', 'repository', 'bugtracker'), url.get('type')
        assert url.text.startswith('https://'), url.text
        assert not any(word in url.text for word in ('example.', '.invalid', 'TODO', '<')), (
            f'a placeholder: {url.text}')


@pytest.mark.linter
@pytest.mark.xmllint
def test_optional_dependencies_say_so():
    """usb_cam and rviz2 are exec_depend (format 3 has no optional kind) under a comment."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    children = list(ET.parse(REPO / 'package.xml', parser=parser).getroot())
    first = next(i for i, e in enumerate(children) if e.text == 'usb_cam')
    comment, usb_cam, rviz2 = children[first - 1:first + 2]
    assert comment.tag is ET.Comment and comment.text.strip().startswith('Optional at run time')
    assert 'skip-keys "usb_cam rviz2"' in ' '.join(comment.text.split())
    assert (usb_cam.tag, rviz2.tag, rviz2.text) == ('exec_depend', 'exec_depend', 'rviz2')


@pytest.mark.linter
@pytest.mark.xmllint
def test_catkin_pkg_validates_package_xml():
    """catkin_pkg reads package.xml for rosdep, bloom and colcon: no error, no warning."""
    package = pytest.importorskip(
        'catkin_pkg.package', reason='catkin_pkg (what rosdep, bloom and colcon read '
        'package.xml with) is not installed: pip install catkin_pkg')
    warnings = []
    parsed = package.parse_package(str(REPO / 'package.xml'), warnings=warnings)
    parsed.validate(warnings=warnings)
    assert warnings == []
    assert parsed.licenses == ['Apache-2.0'] and parsed.licenses[0].file == 'LICENSE'
