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
A node ends with the process ``DEEPLAB_ROS_EXIT_WITH`` names, through any wrapper, and says so.

Real processes: a launcher that sets the variable to its own pid starts the
camera node behind a launch prefix (none, ``sh -c``, ``/usr/bin/time``, a
gdb-like stand-in that forks the node as a grandchild), then dies
by SIGKILL; every process it started must end. Values that are no pid are one
warning line and ignored; a pid that has already ended is one line and no start.
"""

import json
import os
import signal
import subprocess
import sys

from conftest import REPO, wait_for
from deeplab_ros.ros.ros_main import parent_pid, PARENT_VARIABLE
import pytest

pytestmark = pytest.mark.ros

LAUNCHER = """
import json, os, subprocess, sys, time
from deeplab_ros.ros.ros_main import PARENT_VARIABLE
# What the launch files do: the node gets the launcher's pid, here behind a launch prefix.
env = dict(os.environ, **{PARENT_VARIABLE: str(os.getpid())})
subprocess.Popen([*json.loads(sys.argv[1]), sys.executable, *sys.argv[2:]], env=env)
time.sleep(600)
"""
# A debugger-like prefix: the node runs as its grandchild, and the prefix outlives the launcher.
GDB_LIKE = [sys.executable, '-c', 'import subprocess, sys; sys.exit(subprocess.call(["sh", '
            '"-c", "\\"$@\\"; exit $?", "sh", *sys.argv[1:]]))']
PREFIXES = {
    'none': [],
    'sh -c': ['sh', '-c', '"$@"; exit $?', 'sh'],  # a command after it: sh forks, not execs
    '/usr/bin/time': ['/usr/bin/time', '-p'],
    'gdb-like': GDB_LIKE,
}
ENDED = 'ending: process {pid} (DEEPLAB_ROS_EXIT_WITH: what started this node) has ended'
WAIT = 30.0  # seconds: a bound against a hang, not a speed requirement


def camera_args(data_dir, topic):
    return ['-m', 'deeplab_ros.tools.camera_node', '--ros-args', '-p',
            f'source:={data_dir / "images"}', '-p', 'framerate:=5.0', '-r', f'image_raw:={topic}']


def running(pid):
    """Return whether ``pid`` runs (a zombie has ended)."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def descendants(pid):
    """Return the pids of every process below ``pid``."""
    parents = {}
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/stat') as stat:
                parents[int(entry)] = int(stat.read().rsplit(')', 1)[1].split()[1])
        except (ValueError, OSError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def kill_the_launcher(launcher):
    """SIGKILL the launcher; return what it had started, once that has ended (or WAIT s)."""
    below = descendants(launcher.proc.pid)
    assert below, launcher.output
    launcher.proc.kill()
    # launcher.proc.poll() reaps it, as the shell that started a launch does.
    wait_for(lambda: launcher.proc.poll() is not None and not any(map(running, below)), WAIT)
    return {pid for pid in below if running(pid)}


@pytest.mark.parametrize('prefix', sorted(PREFIXES))
def test_a_node_ends_with_its_launcher_through_any_prefix(ros_process, data_dir, prefix):
    launcher = ros_process(['-c', LAUNCHER, json.dumps(PREFIXES[prefix]),
                            *camera_args(data_dir, f'/exit_with_{len(prefix)}/image')])
    assert launcher.wait_for_output('publishing', timeout=60), launcher.output
    left = kill_the_launcher(launcher)
    code, output = launcher.stop()
    assert not left, f'outlived the launcher: {left}\n{output[-2000:]}'
    assert ENDED.format(pid=launcher.proc.pid) in output, output[-2000:]
    assert 'Traceback' not in output, output[-2000:]


def test_without_a_pidfd_the_pid_is_polled(ros_process, data_dir):
    """Another OS, a kernel before 5.3 or a seccomp filter: no os.pidfd_open."""
    no_pidfd = ('import os, runpy; del os.pidfd_open; '
                "runpy.run_module('deeplab_ros.tools.camera_node', run_name='__main__')")
    launcher = ros_process(['-c', LAUNCHER, '[]', '-c', no_pidfd,
                            *camera_args(data_dir, '/exit_with_poll/image')[2:]])
    assert launcher.wait_for_output('publishing', timeout=60), launcher.output
    assert not kill_the_launcher(launcher)
    assert ENDED.format(pid=launcher.proc.pid) in launcher.stop()[1]


@pytest.mark.parametrize('value', ['²', '٥', '9' * 30, '1'])
def test_a_value_that_names_no_launcher_leaves_the_node_running(ros_process, data_dir, value):
    """Junk is one warning and ignored; pid 1 (alive, never our parent) is simply watched."""
    env = dict(os.environ, **{PARENT_VARIABLE: value})
    node = ros_process(camera_args(data_dir, '/exit_with_junk/image'), env=env)
    assert node.wait_for_output('publishing', timeout=60), node.output
    code, output = node.stop()
    assert code == 0 and 'Traceback' not in output, output
    warning = f'{PARENT_VARIABLE}={value!r} is not a process id: ignored'
    assert (warning in output) == (value != '1'), output


def test_a_node_whose_launcher_has_ended_says_so_and_does_not_start():
    ended = subprocess.Popen(['true'])
    ended.wait()
    env = dict(os.environ, **{PARENT_VARIABLE: str(ended.pid)})
    done = subprocess.run([sys.executable, '-m', 'deeplab_ros.tools.camera_node'], env=env,
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and 'publishing' not in output, output
    assert f'not starting: process {ended.pid} ({PARENT_VARIABLE}: ' in output, output


@pytest.mark.parametrize('value', ['', '²', '٥', '0', '-5', ' 12', '12 ', '+12', '1e3', '0x10',
                                   '9' * 30, str(1 << 22)])
def test_only_ascii_digits_in_the_range_of_pids_are_a_pid(value, capfd):
    assert parent_pid(value) is None
    assert ('is not a process id: ignored' in capfd.readouterr().err) == (value != '')


def test_pids_are_read_as_such():
    assert [parent_pid(v) for v in ('1', '0042', str((1 << 22) - 1))] == [1, 42, (1 << 22) - 1]


BURST_TARGET = """
import sys, threading, time
from deeplab_ros.ros.ros_main import StopSignals
for _ in range(4):  # a node's threads (DDS, executor): a signal may be handled in any of them
    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
end = time.monotonic() + float(sys.argv[1])
ready = False
while time.monotonic() < end:  # install and give up the handlers, as run_node does
    signals = StopSignals()
    signals.abort_start = False
    with signals:
        if not ready:
            print('ready', flush=True)
            ready = True
"""


def test_a_signal_burst_while_handlers_come_and_go_and_at_exit():
    """
    Stop signals in a burst as the handlers are given up, and through the interpreter's exit.

    ``signal.signal(SIGTERM, SIG_IGN)`` in a burst printed "Signal 15 ignored due
    to race condition" tracebacks (dozens in 3 s); a Python handler left installed
    at exit is reset to the default, and a late SIGTERM then killed the process.
    """
    target = subprocess.Popen([sys.executable, '-c', BURST_TARGET, '3'], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert target.stdout.readline() == 'ready\n'
    signals = 0
    while target.poll() is None:
        target.send_signal(signal.SIGTERM if signals % 2 else signal.SIGINT)
        signals += 1
    output = target.stdout.read()
    assert target.returncode == 0 and output == '', (signals, target.returncode, output[:2000])
