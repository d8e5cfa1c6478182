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
Shutdown, LogInfo, RegisterEventHandler, OnProcessIO, Node with on_exit):
conditions are decided here.

How a launch ends (``Outcome``): ``ros2 launch`` returns what
``LaunchService.run()`` returns, and that is 1 only when an exception reaches
its loop (``run_async`` on the humble, jazzy and rolling branches of
ros2/launch alike; ros2launch's ``launch_a_launch_file`` and ros2cli pass it on
as the exit code). A ``Shutdown`` action, whatever its reason, ends it with 0,
and the processes still running print their exit lines after its reason. So a
process that fails is remembered with its last line of output, the others are
stopped, and once the last one has exited ``LaunchFailed`` is raised: launch
prints ``Caught exception in launch (see debug for traceback): <reason>`` as
the last line and ``ros2 launch`` exits 1.
"""

from dataclasses import dataclass, field
from pathlib import Path
import re
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


# What each camera of ``cameras`` subscribes, relative to the node: <camera>/<topic>.
CAMERA_TOPICS = ('image', *TOPICS)
ANSI_CODE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')  # colors of a node's log (emulate_tty)
LINE_LIMIT = 500  # characters kept of a process's last line


class PlanError(RuntimeError):
    """The launch cannot start as asked; the message is the one line to show."""


class LaunchFailed(RuntimeError):
    """A process failed; launch shows the message as its last line and exits 1."""


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


class Outcome:
    """
    How a launch ends: the first process to exit ends it; a failure is its last line.

    ``output`` keeps each process's last line; ``exited`` returns the reason to
    shut the launch down, or raises LaunchFailed once the last process has exited
    after one failed (exited non-zero while the launch was not stopping already).
    """

    def __init__(self, processes):
        self._running = {p.name for p in processes}
        self._last_line = {}
        self._failure = None

    def output(self, name, text):
        """Keep the last non-empty line of ``text`` (bytes ``name`` printed), colors removed."""
        lines = ANSI_CODE.sub('', text.decode(errors='replace')).splitlines()
        lines = [line.strip() for line in lines if line.strip()]
        if lines:
            self._last_line[name] = lines[-1][:LINE_LIMIT]

    def exited(self, process, returncode, stopping):
        """Return the reason to shut the launch down; None: it is stopping already."""
        self._running.discard(process.name)
        reason = f'{process.ends_launch} (exit code {returncode})'
        if returncode != 0 and not stopping and self._failure is None:
            last = self._last_line.get(process.name)
            self._failure = f'{reason}; its last line: {last}' if last else reason
        if self._failure and not self._running:
            raise LaunchFailed(self._failure)
        return None if stopping else reason


def topic_in(namespace, topic):
    """Resolve ``topic`` as a node in ``namespace`` would: absolute names stay."""
    if topic.startswith('/'):
        return topic
    return '/' + '/'.join(part for part in (namespace.strip('/'), topic) if part)


def rviz_config(template, namespace, image_topic, camera=''):
    """Return the rviz2 view of ``template`` with this launch's (or ``camera``'s) topics."""
    outputs = topic_in(namespace, 'deeplab/' + (f'{camera}/' if camera else ''))
    text = template.replace('Value: /deeplab/', 'Value: ' + outputs)
    return text.replace('Value: /image_raw', 'Value: ' + topic_in(namespace, image_topic))


def camera_names(text):
    """
    Return the names in the launch argument ``cameras`` ("[front, rear]"); '' and '[]': none.

    Read as ROS reads ``-p 'cameras:=[front, rear]'``, without YAML's other types:
    a camera named ``on`` stays a name.
    """
    text = text.strip()
    if text in ('', '[]'):
        return []
    names = [name.strip().strip('\'"') for name in text[1:-1].split(',')]
    if not (text.startswith('[') and text.endswith(']')) or '' in names:
        raise PlanError(f'launch argument cameras:={text} is not a list of camera names such '
                        'as "[front, rear]"')
    return names


def camera_remappings(arguments, cameras):
    """
    Return the remappings ``<camera>/<topic>:=<topic>`` given as launch arguments.

    With ``warnings`` for those that name no camera in ``cameras`` (a typo).
    """
    remappings, warnings = [], []
    for name, value in arguments.items():
        camera, _, topic = name.rpartition('/')
        if topic in CAMERA_TOPICS and camera:
            if camera in cameras:
                remappings.append((name, value))
            else:
                warnings.append(f'launch argument {name}:={value} names no camera of '
                                f'cameras:=[{", ".join(cameras)}]: ignored')
    return remappings, warnings


def deeplab_process(arguments, image_topic, cameras=(), camera_topics=()):
    """
    Return the deeplab node: params_file, then the overrides given, then use_sim_time.

    ``cameras``: the names for its ``cameras`` parameter (none: as in params_file),
    ``camera_topics``: their remappings.
    """
    overrides = {'autostart': arguments['autostart'] == 'true'}
    for name, (kind, _) in NODE_OVERRIDES.items():
        if arguments.get(name, '') != '':
            try:
                overrides[name] = as_type(kind, arguments[name])
            except ValueError as err:
                raise PlanError(f'launch argument {name}:={arguments[name]} is not a '
                                f'{kind.__name__}') from err
    if cameras:
        overrides['cameras'] = list(cameras)
    return Process(PACKAGE, 'deeplab_node', 'deeplab', 'the deeplab node exited',
                   [arguments['params_file'], overrides, sim_time(arguments)],
                   [('image', image_topic)] + [(name, arguments.get(name) or default)
                                               for name, (default, _) in TOPICS.items()]
                   + list(camera_topics))


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
    # cameras:= is deeplab.launch.py's: with a camera started here there is one.
    cameras = [] if with_camera else camera_names(arguments.get('cameras', ''))
    camera_topics, typos = camera_remappings(arguments, cameras) if cameras else ([], [])
    warnings += typos
    deeplab = deeplab_process(arguments, image_topic, cameras, camera_topics)
    processes.append(deeplab)
    if arguments.get('rviz') == 'true':
        if installed('rviz2'):
            template = (Path(share) / 'config' / 'deeplab.rviz').read_text()
            camera = cameras[0] if cameras else ''  # with cameras, the first one's view
            image = f'{camera}/image' if camera else 'image'
            view = rviz_config(template, arguments['namespace'],
                               dict(deeplab.remappings).get(image, image), camera)
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
