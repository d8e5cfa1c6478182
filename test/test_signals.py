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
Every executable ends cleanly on Ctrl-C, double Ctrl-C, SIGTERM and their mixes.

Real processes get real signals (the demo's whole process group, as a
terminal's Ctrl-C does); each must exit with code 0 (130 for the
command-line tool) and print no traceback, whether streaming, idle or still
loading its model. Times are bounds against a hang, not speed requirements
(two cores shared with other work took over 3 s).
"""

import os
import signal
import subprocess
import sys
import time

from conftest import REPO, wait_for
import cv2
from node_harness import Camera, Harness, start_node
import pytest

pytestmark = pytest.mark.ros

SCENARIOS = {
    'SIGINT': [signal.SIGINT],
    'double SIGINT': [signal.SIGINT, 0.05, signal.SIGINT],
    'triple SIGINT': [signal.SIGINT, 0.02, signal.SIGINT, 0.1, signal.SIGINT],
    'SIGTERM': [signal.SIGTERM],
    'SIGINT then SIGTERM': [signal.SIGINT, 0.05, signal.SIGTERM],
    # A supervisor's burst: signals landing inside the handler itself deadlocked or
    # overflowed it, and one landing as the handlers were given up printed a traceback.
    # For 0.5 s, or until it exits.
    'SIGTERM burst': [(signal.SIGTERM, 0.5)],
}
HANG = 15.0  # seconds from the first signal to the exit: a bound against a hang


def interrupt(process, scenario, group=False, expected_code=0):
    """Send the scenario's signals; assert a clean exit; return the output."""
    assert process.proc.poll() is None, process.output
    for step in SCENARIOS[scenario]:
        if isinstance(step, float):
            time.sleep(step)
        elif isinstance(step, tuple):
            signum, seconds = step
            end = time.monotonic() + seconds
            while time.monotonic() < end and process.proc.poll() is None:
                process.proc.send_signal(signum)
        elif group:
            os.killpg(process.proc.pid, step)
        else:
            process.proc.send_signal(step)
    try:
        process.proc.wait(timeout=HANG)
    finally:
        code, output = process.stop()
    assert code == expected_code, f'{scenario}: exit {code}\n{output[-3000:]}'
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output, output[-3000:]
    assert 'context is invalid' not in output, output[-3000:]
    return output


@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_deeplab_node_while_streaming(pascal_model, bird_bgr, scenario):
    name = f'sig_{scenario.replace(" ", "_")}'.lower()
    node = start_node(pascal_model, name=name, image=f'/{name}/camera')
    harness = Harness(name, image=f'/{name}/camera')
    try:
        harness.wait_for_subscriber()
        harness.send(harness.frame(bird_bgr, 'bgr8', 'first'))
        with Camera(harness, bird_bgr):
            # Several frames in flight: inference and publishing busy.
            assert harness.wait_for_outputs(3) >= 3
            interrupt(node, scenario)
    finally:
        harness.close()
        node.stop()


@pytest.mark.parametrize('scenario', ['double SIGINT', 'SIGTERM'])
def test_deeplab_node_while_idle(pascal_model, scenario):
    node = start_node(pascal_model, name='sig_idle', image='/sig_idle/camera')
    interrupt(node, scenario)


@pytest.mark.parametrize('scenario', ['SIGINT', 'triple SIGINT', 'SIGINT then SIGTERM',
                                      'SIGTERM burst'])
def test_deeplab_node_while_loading_its_model(ros_process, tmp_path, scenario):
    # A .pb model imports TensorFlow first, which takes seconds: the signal lands there.
    model = tmp_path / 'graph.pb'
    # Binary, so only TensorFlow can tell it is no graph (a text file is refused at once).
    model.write_bytes(b'\x0a\xffnot a graph, but loading starts with importing TensorFlow\x00')
    node = ros_process(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
                        '-p', f'model_path:={model}'])
    assert node.wait_for_output('loading model', timeout=30), node.output
    output = interrupt(node, scenario)
    assert 'cannot start' not in output  # stopped before the model could fail


@pytest.mark.parametrize('scenario', ['SIGINT', 'double SIGINT', 'SIGINT then SIGTERM',
                                      'SIGTERM', 'SIGTERM burst'])
def test_camera_node_while_streaming(ros_process, data_dir, scenario):
    camera = ros_process(['-m', 'deeplab_ros.tools.camera_node', '--ros-args', '-p',
                          f'source:={data_dir / "images"}', '-p', 'framerate:=30.0',
                          '-r', 'image_raw:=/sig_camera/image_raw'])
    assert camera.wait_for_output('publishing', timeout=20), camera.output
    time.sleep(0.5)
    interrupt(camera, scenario)


def catches(pid, signum):
    """Return whether process ``pid`` has a handler for ``signum`` (its imports are done)."""
    with open(f'/proc/{pid}/status') as status:
        caught = next(line for line in status if line.startswith('SigCgt:'))
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


@pytest.mark.parametrize('module', ['deeplab_ros.tools.viewer',
                                    'deeplab_ros.tools.class_coverage_example'])
@pytest.mark.parametrize('scenario', ['triple SIGINT', 'SIGTERM', 'SIGTERM burst'])
def test_viewer_and_example_while_idle(ros_process, module, scenario):
    process = ros_process(['-m', module])
    # Before its handlers a process dies of SIGTERM like any other: its imports took
    # over 1.6 s on two loaded cores (60 of 60 runs), so a fixed wait is not enough.
    assert wait_for(lambda: catches(process.proc.pid, signal.SIGTERM), 60), process.output
    time.sleep(0.5)  # started and spinning
    interrupt(process, scenario)


@pytest.mark.parametrize('scenario', ['double SIGINT', 'SIGTERM'])
def test_segment_cli_while_working(ros_process, bird_bgr, pascal_model, tmp_path, scenario):
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(tmp_path / 'bird.png'), bird_bgr)
    for i in range(500):  # far more than it can do before the signals come
        (photos / f'p{i:03d}.png').symlink_to(tmp_path / 'bird.png')
    cli = ros_process(['-m', 'deeplab_ros.tools.segment_cli', str(photos), '--model',
                       str(pascal_model), '--out', str(tmp_path / 'out')])
    assert cli.wait_for_output('p000.png:', timeout=30), cli.output
    output = interrupt(cli, scenario, expected_code=130)
    assert 'interrupted' in output


@pytest.mark.parametrize('scenario', ['double SIGINT', 'SIGINT then SIGTERM'])
def test_demo_on_ctrl_c_to_its_process_group(ros_process, tmp_path, data_dir, scenario):
    env = {k: v for k, v in os.environ.items() if k != 'DISPLAY'}
    demo = ros_process(['-m', 'deeplab_ros.tools.demo', '--no-window', '--output', str(tmp_path)],
                       env=env, start_new_session=True)
    assert demo.wait_for_output('frame    1', timeout=60), demo.output
    output = interrupt(demo, scenario, group=True)
    assert 'frame(s) written' in output


DEFERRED = """
import importlib.util, sys, time
from deeplab_ros.ros.ros_main import Interrupted, StopSignals
# Module code under a numpy folder, as numpy's C API import runs it inside LiteRT's.
spec = importlib.util.spec_from_file_location('shim', sys.argv[1])
shim = importlib.util.module_from_spec(spec)
with StopSignals():
    try:
        spec.loader.exec_module(shim)  # signals itself, then keeps working
    except Interrupted:
        sys.exit('interrupted inside numpy')
    try:
        time.sleep(5)
    except Interrupted:
        print('interrupted after numpy, which finished:', shim.finished)
"""


def test_a_stop_signal_in_numpy_initialisation_waits_for_it(tmp_path):
    """The C API import of numpy prints an exception raised in it as a traceback (in LiteRT)."""
    shim = tmp_path / 'numpy' / '_core' / '_multiarray_umath.py'
    shim.parent.mkdir(parents=True)
    shim.write_text('import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\n'
                    'for _ in range(20):\n    time.sleep(0.01)\nfinished = True\n')
    done = subprocess.run([sys.executable, '-c', DEFERRED, str(shim)], capture_output=True,
                          text=True, timeout=30, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'interrupted after numpy, which finished: True'


STARTER = """
import os, subprocess, sys, time
from deeplab_ros.ros.ros_main import PARENT_VARIABLE
# What the launch files do: the package's nodes get the starter's pid.
env = dict(os.environ, **{PARENT_VARIABLE: str(os.getpid())})
child = subprocess.Popen([sys.executable, *sys.argv[1:]], env=env, stdout=sys.stdout,
                         stderr=subprocess.STDOUT)
print('child', child.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize('signum', [signal.SIGKILL, signal.SIGTERM])
def test_nodes_end_with_a_launch_that_is_killed(ros_process, pascal_model, data_dir, signum):
    """`ros2 launch` killed by SIGTERM or SIGKILL leaves its processes: ours end with it."""
    starter = ros_process(['-c', STARTER, '-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
                           '-r', '__node:=orphan', '-p', f'model_path:={pascal_model}'])
    assert starter.wait_for_output('active: segmenting', timeout=60), starter.output
    child = int(starter.output.split('child ')[1].split()[0])
    os.kill(starter.proc.pid, signum)
    assert wait_for(lambda: not os.path.exists(f'/proc/{child}'), HANG), \
        'the node outlived its launch'
    starter.stop()
    assert 'Traceback' not in starter.output, starter.output
