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
Launch files: checked statically everywhere, loaded where launch_ros exists.

``launch`` and ``launch_ros`` are not on PyPI, so loading the descriptions
runs only on a machine with ROS 2 installed.
"""

import ast
import re

from deeplab_ros.ros.dds_profile import profile_variable, ros_distro, use_large_image_profile
from deeplab_ros.tools.launch_plan import camera_names, LaunchFailed, Outcome, plan, \
    PlanError, Process, rviz_config, topic_in
from launch_arguments import declared_arguments, HELPERS
from lint_paths import REPO
import pytest

LAUNCH_FILES = sorted((REPO / 'launch').glob('*.launch.py'))
# What the launch files import, each checked to exist on the humble branches of ros2/launch
# (1.0.x) and ros2/launch_ros; EqualsSubstitution, say, does not.
HUMBLE_LAUNCH_NAMES = {
    'launch': {'LaunchDescription'},
    'launch.actions': {'DeclareLaunchArgument', 'LogInfo', 'OpaqueFunction',
                       'RegisterEventHandler', 'SetEnvironmentVariable', 'Shutdown'},
    'launch.event_handlers': {'OnProcessIO'},
    'launch.substitutions': {'LaunchConfiguration', 'PathJoinSubstitution'},
    'launch_ros.actions': {'Node'},
    'launch_ros.substitutions': {'FindPackageShare'},
    'ament_index_python.packages': {'get_package_share_directory', 'PackageNotFoundError'},
}
WEBCAM = {'camera': 'usb_cam', 'video_device': '/dev/video0', 'image_width': '640',
          'image_height': '480', 'framerate': '30.0', 'rviz': 'false', 'namespace': '',
          'use_sim_time': 'false', 'autostart': 'true', 'params_file': '/p.yaml',
          'model_path': '', 'model_name': '', 'rate': '', 'device': '', 'cloud': '',
          'depth': 'depth', 'camera_info': 'camera_info'}


def entry_points():
    setup = (REPO / 'setup.py').read_text()
    return set(re.findall(r"'([\w-]+) = deeplab_ros\.", setup))


def test_launch_files_exist_and_parse():
    assert [p.name for p in LAUNCH_FILES] == ['deeplab.launch.py', 'webcam.launch.py']
    for path in LAUNCH_FILES:
        tree = ast.parse(path.read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
                   for n in tree.body), path


def test_launch_files_use_only_what_humble_has():
    for path in [*LAUNCH_FILES, HELPERS]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module.split('.')[0] in (
                    'launch', 'launch_ros', 'ament_index_python'):
                names = {alias.name for alias in node.names}
                assert names <= HUMBLE_LAUNCH_NAMES.get(node.module, set()), (path.name, names)


def installed_all(package):
    return True


def started(arguments, installed=installed_all, **kwargs):
    processes, warnings = plan(arguments, installed, REPO, **kwargs)
    return {p.executable: p for p in processes}, warnings


def test_every_executable_is_an_entry_point_or_another_package():
    for camera in ('usb_cam', 'opencv'):
        processes, _ = started({**WEBCAM, 'camera': camera, 'rviz': 'true'})
        ours = {p.executable for p in processes.values() if p.package == 'deeplab_ros'}
        assert ours <= entry_points()
        assert {'deeplab_node', 'rviz2'} <= set(processes)
        assert ('usb_cam_node_exe' if camera == 'usb_cam' else 'camera_node') in processes


def test_every_process_ends_the_launch_when_it_exits():
    processes, _ = started({**WEBCAM, 'rviz': 'true'})
    assert all(p.ends_launch for p in processes.values())
    helpers = HELPERS.read_text()
    assert 'on_exit=_ends_launch(outcome, p)' in helpers
    assert 'outcome.exited(process, event.returncode, context.is_shutdown)' in helpers
    assert 'OnProcessIO(target_action=node, on_stdout=remember' in helpers
    assert "raise PlanError(f'cannot start: {err}') from None" in helpers


CAMERA = Process('camera', 'camera_node', 'camera', 'the camera node exited')
DEEPLAB = Process('deeplab_ros', 'deeplab_node', 'deeplab', 'the deeplab node exited')
RVIZ = Process('rviz2', 'rviz2', 'rviz2', 'rviz2 was closed')
FATAL = (b'\x1b[31m[FATAL] [1700000000.1] [deeplab]: cannot start: model file not found: '
         b'/m.tflite\x1b[0m\n')


def test_a_failed_process_is_the_last_line_of_the_launch_and_its_exit_code():
    outcome = Outcome([CAMERA, DEEPLAB, RVIZ])
    outcome.output('deeplab', b'[INFO] [deeplab]: loading model /m.tflite\n')
    outcome.output('deeplab', FATAL)
    outcome.output('camera', b'[INFO] [camera]: publishing\n')
    # The node failed: the launch is shut down, the others stop and print their lines...
    assert outcome.exited(DEEPLAB, 1, stopping=False) == 'the deeplab node exited (exit code 1)'
    assert outcome.exited(RVIZ, -2, stopping=True) is None
    # ...and when the last one has exited, the node's reason is raised for launch to show.
    with pytest.raises(LaunchFailed) as failed:
        outcome.exited(CAMERA, 0, stopping=True)
    assert str(failed.value) == (
        'the deeplab node exited (exit code 1); its last line: [FATAL] [1700000000.1] '
        '[deeplab]: cannot start: model file not found: /m.tflite')


def test_a_launch_of_one_failing_process_fails_at_once():
    outcome = Outcome([DEEPLAB])
    with pytest.raises(LaunchFailed, match=r'^the deeplab node exited \(exit code -11\)$'):
        outcome.exited(DEEPLAB, -11, stopping=False)


def test_a_process_that_ends_by_itself_or_ctrl_c_are_no_failure():
    outcome = Outcome([CAMERA, DEEPLAB, RVIZ])
    assert outcome.exited(RVIZ, 0, stopping=False) == 'rviz2 was closed (exit code 0)'
    assert outcome.exited(DEEPLAB, 1, stopping=True) is None  # stopped by the shutdown
    assert outcome.exited(CAMERA, -15, stopping=True) is None
    ctrl_c = Outcome([CAMERA, DEEPLAB])
    assert ctrl_c.exited(CAMERA, -2, stopping=True) is None
    assert ctrl_c.exited(DEEPLAB, 130, stopping=True) is None


def test_only_the_first_failure_and_a_bounded_last_line_are_kept():
    outcome = Outcome([CAMERA, DEEPLAB])
    outcome.output('camera', b'cannot open /dev/video0\n\n  \n')
    outcome.output('deeplab', b'x' * 10000 + b'\npartial line without end')
    assert outcome.exited(CAMERA, 1, stopping=False).startswith('the camera node exited')
    with pytest.raises(LaunchFailed, match='its last line: cannot open /dev/video0$'):
        outcome.exited(DEEPLAB, 1, stopping=False)
    long_line = Outcome([DEEPLAB])
    long_line.output('deeplab', b'y' * 10000)
    with pytest.raises(LaunchFailed, match='its last line: y{500}$'):
        long_line.exited(DEEPLAB, 1, stopping=False)


def test_a_missing_camera_driver_stops_the_launch_before_anything_starts():
    with pytest.raises(PlanError, match="needs the ROS package 'usb_cam'.*camera:=opencv"):
        plan(WEBCAM, lambda package: package != 'usb_cam', REPO)
    processes, _ = started({**WEBCAM, 'camera': 'opencv'}, lambda p: p != 'usb_cam')
    assert processes['camera_node'].parameters[0]['source'] == '/dev/video0'


def test_a_missing_rviz2_is_a_warning_and_nothing_else_changes():
    processes, warnings = started({**WEBCAM, 'rviz': 'true'}, lambda p: p != 'rviz2')
    assert set(processes) == {'usb_cam_node_exe', 'deeplab_node'}
    assert warnings == ["rviz:=true but the ROS package 'rviz2' is not installed: running "
                        'without it (sudo apt install ros-$ROS_DISTRO-rviz2)']


def test_rviz_shows_the_topics_of_this_launch():
    template = (REPO / 'config' / 'deeplab.rviz').read_text()
    assert template.count('Value: /deeplab/') == 3 and template.count('Value: /image_raw') == 1
    assert 'Class: rviz_default_plugins/PointCloud2' in template
    assert 'Color Transformer: RGB8' in template
    view = rviz_config(template, 'robot1', 'image_raw')
    assert 'Value: /robot1/deeplab/points' in view
    assert 'Value: /robot1/deeplab/overlay' in view and 'Value: /robot1/image_raw' in view
    assert 'Value: /deeplab/' not in view
    assert 'Value: /cam/rgb' in rviz_config(template, 'robot1', '/cam/rgb')
    processes, _ = started({**WEBCAM, 'rviz': 'true', 'namespace': '/robot2'})
    written = processes['rviz2'].arguments[1]
    assert 'Value: /robot2/deeplab/color_mask' in open(written).read()
    assert topic_in('', 'image_raw') == '/image_raw'


def test_arguments_become_typed_overrides_and_empty_ones_keep_the_yaml():
    processes, _ = started({**WEBCAM, 'rate': '5', 'autostart': 'false',
                            'use_sim_time': 'true', 'cloud': 'true', 'depth': '/cam/depth'})
    node = processes['deeplab_node']
    assert node.parameters == ['/p.yaml', {'autostart': False, 'rate': 5.0, 'cloud': True},
                               {'use_sim_time': True}]
    assert node.remappings == [('image', 'image_raw'), ('depth', '/cam/depth'),
                               ('camera_info', 'camera_info')]
    with pytest.raises(PlanError, match='cloud:=yes is not a bool'):
        plan({**WEBCAM, 'cloud': 'yes'}, installed_all, REPO)
    assert processes['usb_cam_node_exe'].parameters[1]['framerate'] == 30.0
    with pytest.raises(PlanError, match='rate:=fast is not a float'):
        plan({**WEBCAM, 'rate': 'fast'}, installed_all, REPO)


def test_the_bag_launch_starts_the_node_alone_on_its_image_topic():
    processes, _ = started({**WEBCAM, 'image': '/cam/image'}, image_topic='/cam/image',
                           with_camera=False)
    assert set(processes) == {'deeplab_node'}
    assert processes['deeplab_node'].remappings[0] == ('image', '/cam/image')


def test_every_launch_argument_has_a_description():
    for path in [*LAUNCH_FILES, HELPERS]:
        for call in ast.walk(ast.parse(path.read_text())):
            if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == \
                    'DeclareLaunchArgument':
                keywords = {k.arg for k in call.keywords}
                assert 'description' in keywords, (path.name, ast.unparse(call)[:80])


COMMON_ARGUMENTS = {'namespace', 'use_sim_time', 'autostart', 'params_file', 'model_path',
                    'model_name', 'rate', 'device', 'rviz', 'cloud', 'depth', 'camera_info'}


def test_both_launch_files_take_the_common_arguments():
    for path in LAUNCH_FILES:
        assert 'deeplab_arguments()' in path.read_text(), path.name
        assert COMMON_ARGUMENTS <= declared_arguments(path), path.name
    # One camera in webcam.launch.py: cameras:= is the node-alone launch's.
    assert 'cameras' in declared_arguments(REPO / 'launch' / 'deeplab.launch.py')
    assert 'cameras' not in declared_arguments(REPO / 'launch' / 'webcam.launch.py')
    assert "namespace=arguments['namespace']" in HELPERS.read_text()


def test_config_files_referenced_exist():
    for name in ('usb_cam.yaml', 'deeplab.rviz', 'deeplab.yaml', 'fastdds_large_images.xml'):
        assert (REPO / 'config' / name).is_file(), name


def test_the_release_comes_from_ros_distro_else_the_installed_wheels():
    assert ros_distro({'ROS_DISTRO': 'humble'}) == 'humble'
    try:
        import rclpy  # noqa: F401
    except ImportError:
        assert ros_distro({}) is None
        return
    from importlib import metadata
    wheels = [d for d in ('jazzy', 'kilted') if any(
        (dist.metadata['Name'] or '').lower() == f'ros-{d}-rclpy'
        for dist in metadata.distributions())]
    assert ros_distro({}) == (wheels[0] if wheels else None)


def test_profile_variable_respects_the_user_and_the_distro():
    environ = {'ROS_DISTRO': 'jazzy'}
    use_large_image_profile(environ)
    profile = REPO / 'config' / 'fastdds_large_images.xml'
    assert environ['FASTRTPS_DEFAULT_PROFILES_FILE'] == str(profile)
    mine = {'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}
    use_large_image_profile(mine)
    assert mine == {'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}
    installed = ros_distro({})  # without ROS_DISTRO: the release of the installed wheels
    assert profile_variable({}) == ('FASTRTPS_DEFAULT_PROFILES_FILE' if installed in (
        'humble', 'jazzy') else 'FASTDDS_DEFAULT_PROFILES_FILE')
    assert profile_variable({'ROS_DISTRO': 'jazzy'}) == 'FASTRTPS_DEFAULT_PROFILES_FILE'
    assert profile_variable({'ROS_DISTRO': 'kilted'}) == 'FASTDDS_DEFAULT_PROFILES_FILE'
    assert profile_variable({'FASTRTPS_DEFAULT_PROFILES_FILE': '/mine.xml'}) is None
    assert profile_variable({'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'}) is None


def load(path):
    pytest.importorskip('launch_ros', reason='launch_ros is not installed (not on PyPI); '
                                             'needs a ROS 2 install')
    from launch.launch_description_sources import get_launch_description_from_python_launch_file
    return get_launch_description_from_python_launch_file(str(path))


def test_webcam_launch_description():
    description = load(REPO / 'launch' / 'webcam.launch.py')
    arguments = {a.name for a in description.get_launch_arguments()}
    assert {'camera', 'video_device', 'image_width', 'image_height', 'framerate',
            'rviz'} | COMMON_ARGUMENTS <= arguments


def test_deeplab_launch_description():
    description = load(REPO / 'launch' / 'deeplab.launch.py')
    arguments = {a.name for a in description.get_launch_arguments()}
    assert {'image', 'cameras'} | COMMON_ARGUMENTS <= arguments


def test_cameras_take_ros_list_syntax():
    assert camera_names('') == [] and camera_names('[]') == []
    assert camera_names('[front, rear]') == ['front', 'rear']
    assert camera_names(" ['front','rear'] ") == ['front', 'rear']
    assert camera_names('[on, 1]') == ['on', '1']  # names; the node judges them
    for bad in ('front', 'front, rear', '[front,, rear]', '[front', '[,]'):
        with pytest.raises(PlanError, match='is not a list of camera names such as'):
            camera_names(bad)


def test_cameras_set_the_parameter_and_each_camera_is_remapped_by_its_own_argument():
    arguments = {**WEBCAM, 'cameras': '[front, rear]', 'front/image': '/cam1/color/image_raw',
                 'rear/image': '/cam2/color/image_raw', 'front/depth': '/cam1/depth',
                 'rera/image': '/typo', 'rviz': 'true', 'namespace': 'robot'}
    processes, warnings = started(arguments, image_topic='/image_raw', with_camera=False)
    node = processes['deeplab_node']
    assert node.parameters[1]['cameras'] == ['front', 'rear']
    assert ('front/image', '/cam1/color/image_raw') in node.remappings
    assert ('rear/image', '/cam2/color/image_raw') in node.remappings
    assert ('front/depth', '/cam1/depth') in node.remappings
    assert not any(name.startswith('rera') for name, _ in node.remappings)
    assert warnings == ['launch argument rera/image:=/typo names no camera of '
                        'cameras:=[front, rear]: ignored']
    view = open(processes['rviz2'].arguments[1]).read()
    assert 'Value: /robot/deeplab/front/overlay' in view
    assert 'Value: /cam1/color/image_raw' in view
    # Unremapped, a camera's image is its relative topic.
    del arguments['front/image']
    processes, _ = started(arguments, image_topic='/image_raw', with_camera=False)
    assert 'Value: /robot/front/image' in open(processes['rviz2'].arguments[1]).read()


def test_no_cameras_change_nothing_and_webcam_has_one_camera():
    for cameras in ('', '[]'):
        processes, _ = started({**WEBCAM, 'cameras': cameras}, with_camera=False)
        assert 'cameras' not in processes['deeplab_node'].parameters[1]
    # A `cameras` launch configuration around webcam.launch.py (an including file's) is
    # not this launch's: its camera publishes one image.
    processes, warnings = started({**WEBCAM, 'cameras': '[front, rear]', 'front/image': '/x'})
    assert 'cameras' not in processes['deeplab_node'].parameters[1] and not warnings
    with pytest.raises(PlanError, match='cameras:=front is not a list'):
        plan({**WEBCAM, 'cameras': 'front'}, installed_all, REPO, with_camera=False)
