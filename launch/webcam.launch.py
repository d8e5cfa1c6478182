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
A webcam and live DeepLab segmentation, optionally shown in rviz2.

    ros2 launch deeplab_ros webcam.launch.py
    ros2 launch deeplab_ros webcam.launch.py camera:=opencv video_device:=/dev/video2 rviz:=true

usb_cam_node_exe is started directly with this package's usb_cam.yaml (its
own camera.launch.py needs the pydantic v1 API, which current pydantic lacks).
When the camera, the deeplab node or rviz2 exits, the whole launch ends with
one line saying which and its exit code. A camera driver that is not installed
ends it before anything starts; a missing rviz2 is skipped with a warning.
"""

from deeplab_ros.tools.launch_helpers import deeplab_arguments, large_image_profile, nodes
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('camera', default_value='usb_cam', choices=['usb_cam', 'opencv'],
                              description='Camera driver: usb_cam, or opencv for the '
                                          "package's own camera_node"),
        DeclareLaunchArgument('video_device', default_value='/dev/video0',
                              description='Camera device; with camera:=opencv also a video '
                                          'file, an image or a folder of images'),
        DeclareLaunchArgument('image_width', default_value='640',
                              description='Capture width in pixels'),
        DeclareLaunchArgument('image_height', default_value='480',
                              description='Capture height in pixels'),
        DeclareLaunchArgument('framerate', default_value='30.0',
                              description='Capture frames per second'),
        *deeplab_arguments(),
        *large_image_profile(),
        nodes(image_topic='image_raw'),
    ])
