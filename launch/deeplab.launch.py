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
The deeplab node alone, on any image topic (bag files, other cameras).

When the node exits (a model that cannot load, say) the launch ends; if it
failed, its last line is the launch's last line and the launch exits 1.

    ros2 launch deeplab_ros deeplab.launch.py image:=/my_camera/image_raw
    ros2 launch deeplab_ros deeplab.launch.py image:=/cam/image_raw use_sim_time:=true  # a bag

Several cameras, one model: each camera's topics are remapped as
``<camera>/<topic>:=`` (image, depth, camera_info), as ``--ros-args -r`` would.

    ros2 launch deeplab_ros deeplab.launch.py cameras:="[front, rear]" \
        front/image:=/front/color/image_raw rear/image:=/rear/color/image_raw
"""

from deeplab_ros.tools.launch_helpers import deeplab_arguments, large_image_profile, nodes
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('image', default_value='/image_raw',
                              description='Camera image topic to segment'),
        DeclareLaunchArgument('cameras', default_value='',
                              description='Camera names, e.g. "[front, rear]": the node '
                                          'subscribes <camera>/image (remapped by '
                                          '<camera>/image:=<topic>, likewise <camera>/depth '
                                          'and <camera>/camera_info) and publishes '
                                          '~/<camera>/label_map etc.; empty: as in params_file '
                                          '(one camera: image)'),
        *deeplab_arguments(),
        *large_image_profile(),
        nodes(with_camera=False),
    ])
