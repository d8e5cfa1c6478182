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
Which environment variable points Fast DDS at our large-image profile.

``config/fastdds_large_images.xml`` lets best-effort camera frames over
~500 KB cross processes. Every process of the pipeline needs it, so the
launch files and the demo set it for what they start, never overriding a
profile the user chose.
"""

from importlib import metadata
import os
from pathlib import Path

PROFILE_FILE = 'fastdds_large_images.xml'
# Fast DDS 2 (ROS 2 Humble to Jazzy) reads FASTRTPS_...; Fast DDS 3 (Kilted on)
# reads FASTDDS_... and warns that FASTRTPS_... is deprecated.
_FAST_DDS_2_DISTROS = ('humble', 'iron', 'jazzy')
_DISTROS = ('humble', 'iron', 'jazzy', 'kilted', 'rolling')


def ros_distro(environ=os.environ):
    """
    Return the ROS 2 release: $ROS_DISTRO (a sourced install), else the installed wheels'.

    A venv with PyPI's ROS 2 wheels has no ROS_DISTRO; its ros-<distro>-rclpy names it.
    """
    if environ.get('ROS_DISTRO'):
        return environ['ROS_DISTRO']
    for distro in _DISTROS:
        try:
            metadata.version(f'ros-{distro}-rclpy')
        except metadata.PackageNotFoundError:
            continue
        return distro
    return None


def release_variable(environ=os.environ):
    """Return the profile variable this ROS 2 release's Fast DDS reads."""
    if ros_distro(environ) in _FAST_DDS_2_DISTROS:
        return 'FASTRTPS_DEFAULT_PROFILES_FILE'
    return 'FASTDDS_DEFAULT_PROFILES_FILE'


def profile_variable(environ=os.environ):
    """Return the variable to set for our profile, or None when one is already set."""
    if environ.get('FASTDDS_DEFAULT_PROFILES_FILE') or environ.get(
            'FASTRTPS_DEFAULT_PROFILES_FILE'):
        return None
    return release_variable(environ)


def use_large_image_profile(environ=os.environ):
    """
    Point this process (and its children) at the profile in this source tree.

    For programs run from the repository (the demo, the benchmarks); launch
    files use the installed share folder instead. A profile the user chose wins.
    """
    variable = profile_variable(environ)
    if variable:
        environ[variable] = str(Path(__file__).resolve().parents[2] / 'config' / PROFILE_FILE)
