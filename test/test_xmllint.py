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

"""package.xml and the shipped XML files are well formed and package.xml is format 3."""

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
    exec_deps = {e.text for e in root.findall('exec_depend')}
    assert {'rclpy', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs',
            'python3-numpy', 'python3-opencv'} <= exec_deps
