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
What the launch files start, decided in plain Python (no launch import), so it is tested anywhere.

``plan(arguments, installed)`` turns the launch arguments into the processes
to start, each with the one line that ends the launch when it exits, and the
warnings to print first. Every package a process needs is checked before
anything starts: a missing camera driver ends the launch at once with one
line (starting the rest first would leave it running when launch fails on the
missing package), a missing rviz2 is skipped with a warning. The rviz2 view
is written for the namespace and image topic of this launch.

Launch files use only what Humble's launch and launch_ros have (OpaqueFunction,
Shutdown, LogInfo, Node with on_exit): conditions are decided here.
"""

from dataclasses import dataclass, field
from pathlib import Path
import tempfile

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
    'cloud': (bool, 'true: also publish the labeled point cloud ~/points from the depth and '
                    'camera_info topics; empty: as in params_file'),
}
# Topic launch arguments: name -> (default, description), remapped onto the node.
TOPICS = {
    'depth': ('depth', 'Depth registered to the color image, for cloud:=true (RealSense: '
                       '/camera/camera/aligned_depth_to_color/image_raw)'),
    'camera_info': ('camera_info', "The color camera's CameraInfo, for cloud:=true "
                                   '(RealSense: /camera/camera/color/camera_info)'),
}


class PlanError(RuntimeError):
    """The launch cannot start as asked; the message is the one line to show."""


@dataclass
class Process:
    """One node to start; when it exits, the launch ends with ``ends_launch`` and the code."""

    package: str
    executable: str
    name: str
    ends_launch: str = None
    parameters: list = field(default_factory=list)
    remappings: list = field(default_factory=list)
    arguments: list = field(default_factory=list)


def topic_in(namespace, topic):
    """Resolve ``topic`` as a node in ``namespace`` would: absolute names stay."""
    if topic.startswith('/'):
        return topic
    return '/' + '/'.join(part for part in (namespace.strip('/'), topic) if part)


def rviz_config(template, namespace, image_topic):
    """Return the rviz2 view of ``template`` with this launch's output and camera topics."""
    text = template.replace('Value: /deeplab/', 'Value: ' + topic_in(namespace, 'deeplab/'))
    return text.replace('Value: /image_raw', 'Value: ' + topic_in(namespace, image_topic))


def deeplab_process(arguments, image_topic):
    """Return the deeplab node: params_file, then the overrides given, then use_sim_time."""
    overrides = {'autostart': arguments['autostart'] == 'true'}
    for name, (kind, _) in NODE_OVERRIDES.items():
        if arguments.get(name, '') != '':
            try:
                overrides[name] = as_type(kind, arguments[name])
            except ValueError as err:
                raise PlanError(f'launch argument {name}:={arguments[name]} is not a '
                                f'{kind.__name__}') from err
    return Process(PACKAGE, 'deeplab_node', 'deeplab', 'the deeplab node exited',
                   [arguments['params_file'], overrides, sim_time(arguments)],
                   [('image', image_topic)] + [(name, arguments.get(name) or default)
                                               for name, (default, _) in TOPICS.items()])


def as_type(kind, text):
    """Convert a launch argument's text: bool takes true or false only."""
    if kind is bool:
        if text not in ('true', 'false'):
            raise ValueError(text)
        return text == 'true'
    return kind(text)


def sim_time(arguments):
    return {'use_sim_time': arguments['use_sim_time'] == 'true'}


def camera_process(arguments, share):
    """Return the camera driver: usb_cam with config/usb_cam.yaml, or our camera_node."""
    capture = {'image_width': int(arguments['image_width']),
               'image_height': int(arguments['image_height']),
               'framerate': float(arguments['framerate'])}
    if arguments['camera'] == 'usb_cam':
        return Process('usb_cam', 'usb_cam_node_exe', 'usb_cam',
                       'the usb_cam camera driver exited',
                       [str(Path(share) / 'config' / 'usb_cam.yaml'),
                        {'video_device': arguments['video_device'], **capture},
                        sim_time(arguments)])
    return Process(PACKAGE, 'camera_node', 'camera', 'the camera node exited',
                   [{'source': arguments['video_device'], **capture}, sim_time(arguments)])


def plan(arguments, installed, share, image_topic='image_raw', with_camera=True):
    """
    Return ``(processes, warnings)`` for the launch ``arguments`` (name -> text).

    ``installed(package)`` tells whether a ROS package can be found; ``share``
    is this package's share folder. PlanError: nothing may start.
    """
    processes, warnings = [], []
    if with_camera:
        camera = camera_process(arguments, share)
        if not installed(camera.package):
            raise PlanError(f'camera:={arguments["camera"]} needs the ROS package '
                            f"'{camera.package}', which is not installed (sudo apt install "
                            'ros-$ROS_DISTRO-usb-cam), or use camera:=opencv')
        processes.append(camera)
    processes.append(deeplab_process(arguments, image_topic))
    if arguments.get('rviz') == 'true':
        if installed('rviz2'):
            template = (Path(share) / 'config' / 'deeplab.rviz').read_text()
            view = rviz_config(template, arguments['namespace'], image_topic)
            handle = tempfile.NamedTemporaryFile('w', prefix='deeplab_', suffix='.rviz',
                                                 delete=False)
            with handle:
                handle.write(view)
            processes.append(Process('rviz2', 'rviz2', 'rviz2', 'rviz2 was closed',
                                     [sim_time(arguments)], arguments=['-d', handle.name]))
        else:
            warnings.append("rviz:=true but the ROS package 'rviz2' is not installed: running "
                            'without it (sudo apt install ros-$ROS_DISTRO-rviz2)')
    return processes, warnings
