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
The launch files' actions: ``launch_plan`` decides, this turns its plan into launch actions.

Launch arguments left empty keep the value from ``params_file``, so editing
the YAML works and the command line still wins. ``namespace``,
``use_sim_time`` (bag replay: stamps and latency on the bag's clock) and
``autostart`` (false: a managed start through ``ros2 lifecycle set``) apply
to every node a launch file starts. Only what Humble's launch and launch_ros
have is used.

A launch that cannot start, or whose process fails, ends with an exception
carrying the reason (``launch_plan.Outcome`` says why): ``ros2 launch`` then
shows it as its last line and exits 1 instead of 0.
"""

import os

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from deeplab_ros.ros.dds_profile import PROFILE_FILE, profile_variable
from deeplab_ros.ros.ros_main import PARENT_VARIABLE
from deeplab_ros.tools.launch_plan import NODE_OVERRIDES, Outcome, PACKAGE, plan, PlanError, \
    TOPICS
from launch.actions import (DeclareLaunchArgument, LogInfo, OpaqueFunction,
                            RegisterEventHandler, SetEnvironmentVariable, Shutdown)
from launch.event_handlers import OnProcessIO
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def share(*parts):
    return PathJoinSubstitution([FindPackageShare(PACKAGE), *parts])


def deeplab_arguments():
    """Declare namespace, use_sim_time, autostart, params_file, rviz and the node overrides."""
    return [
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of every node (and so of its topics)'),
        DeclareLaunchArgument('use_sim_time', default_value='false', choices=['true', 'false'],
                              description='Use /clock (true when replaying a bag)'),
        DeclareLaunchArgument('autostart', default_value='true', choices=['true', 'false'],
                              description='Configure and activate the deeplab node at start; '
                                          'false: `ros2 lifecycle set` it'),
        DeclareLaunchArgument('params_file', default_value=share('config', 'deeplab.yaml'),
                              description='YAML file with the deeplab node parameters'),
        DeclareLaunchArgument('rviz', default_value='false', choices=['true', 'false'],
                              description='Open rviz2 with the overlay and mask views, on this '
                                          "launch's topics (skipped with a warning when "
                                          'rviz2 is not installed)')] + [
        DeclareLaunchArgument(name, default_value='', description=description)
        for name, (_, description) in NODE_OVERRIDES.items()] + [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, (default, description) in TOPICS.items()]


def installed(package):
    try:
        get_package_share_directory(package)
    except PackageNotFoundError:
        return False
    return True


def _ends_launch(outcome, process):
    def on_exit(event, context):
        reason = outcome.exited(process, event.returncode, context.is_shutdown)
        return [Shutdown(reason=reason)] if reason else None
    return on_exit


def _remember_output(outcome, name):
    def on_output(event):
        outcome.output(name, event.text)
    return on_output


def _start(context, image_topic, with_camera):
    arguments = dict(context.launch_configurations)
    image = LaunchConfiguration('image').perform(context) if image_topic is None else image_topic
    try:
        processes, warnings = plan(arguments, installed, get_package_share_directory(PACKAGE),
                                   image_topic=image, with_camera=with_camera)
    except PlanError as err:
        raise PlanError(f'cannot start: {err}') from None
    outcome = Outcome(processes)
    actions = [LogInfo(msg=f'WARNING: {text}') for text in warnings]
    for p in processes:
        node = Node(package=p.package, executable=p.executable, name=p.name, output='screen',
                    emulate_tty=True, namespace=arguments['namespace'],
                    parameters=p.parameters, remappings=p.remappings, arguments=p.arguments,
                    on_exit=_ends_launch(outcome, p),
                    # This package's nodes end with the launch however it ends (launch
                    # itself leaves its processes running when it gets SIGTERM or SIGKILL).
                    additional_env={PARENT_VARIABLE: str(os.getpid())})
        remember = _remember_output(outcome, p.name)
        actions += [RegisterEventHandler(OnProcessIO(target_action=node, on_stdout=remember,
                                                     on_stderr=remember)), node]
    return actions


def nodes(image_topic=None, with_camera=True):
    """Start what the plan says once the arguments are known (image_topic None: 'image')."""
    return OpaqueFunction(function=_start, args=[image_topic, with_camera])


def large_image_profile():
    """Set the Fast DDS large-image profile for the processes launched, unless one is set."""
    variable = profile_variable()
    return [SetEnvironmentVariable(variable, share('config', PROFILE_FILE))] if variable else []
