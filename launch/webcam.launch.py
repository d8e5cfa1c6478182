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
When the camera process exits (a missing device, say) the whole launch shuts
down, with the camera's error on the screen above.
"""

from deeplab_ros.tools.launch_helpers import (common_parameters, deeplab_arguments,
                                              deeplab_node, large_image_profile, PACKAGE, share)
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, Shutdown
from launch.conditions import IfCondition
from launch.substitutions import EqualsSubstitution, LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    camera = LaunchConfiguration('camera')
    namespace = LaunchConfiguration('namespace')
    capture = {
        'image_width': ParameterValue(LaunchConfiguration('image_width'), value_type=int),
        'image_height': ParameterValue(LaunchConfiguration('image_height'), value_type=int),
        'framerate': ParameterValue(LaunchConfiguration('framerate'), value_type=float),
    }
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
        DeclareLaunchArgument('rviz', default_value='false', choices=['true', 'false'],
                              description='Open rviz2 with the overlay and mask views'),
        *deeplab_arguments(),
        *large_image_profile(),
        Node(package='usb_cam', executable='usb_cam_node_exe', name='usb_cam',
             output='screen', namespace=namespace,
             condition=IfCondition(EqualsSubstitution(camera, 'usb_cam')),
             parameters=[share('config', 'usb_cam.yaml'),
                         {'video_device': LaunchConfiguration('video_device'), **capture},
                         common_parameters()],
             on_exit=Shutdown(reason='the usb_cam camera driver exited')),
        Node(package=PACKAGE, executable='camera_node', name='camera', output='screen',
             namespace=namespace, condition=IfCondition(EqualsSubstitution(camera, 'opencv')),
             parameters=[{'source': LaunchConfiguration('video_device'), **capture},
                         common_parameters()],
             on_exit=Shutdown(reason='the camera node exited')),
        deeplab_node('image_raw'),
        Node(package='rviz2', executable='rviz2', name='rviz2', namespace=namespace,
             arguments=['-d', share('config', 'deeplab.rviz')],
             parameters=[common_parameters()],
             condition=IfCondition(LaunchConfiguration('rviz'))),
    ])
