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
Pieces both launch files share: the deeplab node with its common arguments.

Launch arguments left empty keep the value from ``params_file``, so editing
the YAML works and the command line still wins. ``namespace``,
``use_sim_time`` (bag replay: stamps and latency on the bag's clock) and
``autostart`` (false: a managed start through ``ros2 lifecycle set``) apply
to every node a launch file starts.
"""

from deeplab_ros.node.dds_profile import PROFILE_FILE, profile_variable
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'deeplab_ros'

# name -> (parameter type, description); empty means "as in params_file".
NODE_OVERRIDES = {
    'model_path': (str, 'Model file (.tar.gz, .pb, SavedModel folder, .tflite); empty: as '
                        'in params_file'),
    'model_name': (str, 'Model zoo name used when model_path is empty; empty: as in '
                        'params_file'),
    'rate': (float, 'Max frames segmented per second (0 = every frame); empty: as in '
                    'params_file'),
    'device': (str, 'auto, cpu or gpu:N; empty: as in params_file'),
}


def share(*parts):
    return PathJoinSubstitution([FindPackageShare(PACKAGE), *parts])


def deeplab_arguments():
    """Declare namespace, use_sim_time, autostart, params_file and the node overrides."""
    return [
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of every node (and so of its topics)'),
        DeclareLaunchArgument('use_sim_time', default_value='false', choices=['true', 'false'],
                              description='Use /clock (true when replaying a bag)'),
        DeclareLaunchArgument('autostart', default_value='true', choices=['true', 'false'],
                              description='Configure and activate the deeplab node at start; '
                                          'false: `ros2 lifecycle set` it'),
        DeclareLaunchArgument('params_file', default_value=share('config', 'deeplab.yaml'),
                              description='YAML file with the deeplab node parameters')] + [
        DeclareLaunchArgument(name, default_value='', description=description)
        for name, (_, description) in NODE_OVERRIDES.items()]


def common_parameters():
    """Return the parameters every node gets: use_sim_time from its launch argument."""
    return {'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'),
                                           value_type=bool)}


def _deeplab_node(context, image_topic):
    overrides = {'autostart': LaunchConfiguration('autostart').perform(context) == 'true'}
    for name, (kind, _) in NODE_OVERRIDES.items():
        value = LaunchConfiguration(name).perform(context)
        if value != '':
            overrides[name] = kind(value)
    return [Node(package=PACKAGE, executable='deeplab_node', name='deeplab', output='screen',
                 emulate_tty=True, namespace=LaunchConfiguration('namespace'),
                 parameters=[LaunchConfiguration('params_file').perform(context), overrides,
                             common_parameters()],
                 remappings=[('image', image_topic)])]


def deeplab_node(image_topic):
    """Return the deeplab node action, subscribing ``image_topic`` (a substitution)."""
    return OpaqueFunction(function=_deeplab_node, args=[image_topic])


def large_image_profile():
    """Set the Fast DDS large-image profile for the processes launched, unless one is set."""
    variable = profile_variable()
    return [SetEnvironmentVariable(variable, share('config', PROFILE_FILE))] if variable else []
