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

"""Build script for the deeplab_ros ament_python package."""

from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'deeplab_ros'


def share(folder: str) -> tuple[str, list[str]]:
    """Install every file of ``folder`` to share/, so that a new launch or config file ships."""
    files = [path for path in sorted(glob(folder + '/*')) if os.path.isfile(path)]
    return ('share/' + package_name + '/' + folder, files)


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml', 'LICENSE']),
        share('launch'),
        share('config'),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='deeplab_ros developers',
    maintainer_email='dev@deeplab-ros.invalid',
    description='Live DeepLab semantic segmentation for ROS 2 camera streams.',
    license='Apache-2.0',
    # rosdep installs these from package.xml's test_depend; pip, with .[test].
    extras_require={'test': ['hypothesis', 'pytest', 'PyYAML']},
    entry_points={
        'console_scripts': [
            'deeplab-segment = deeplab_ros.tools.segment_cli:main',
            'deeplab_node = deeplab_ros.node.deeplab_node:main',
            'camera_node = deeplab_ros.tools.camera_node:main',
            'viewer = deeplab_ros.tools.viewer:main',
            'class_coverage_example = deeplab_ros.tools.class_coverage_example:main',
        ],
    },
)
