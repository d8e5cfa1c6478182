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
The one-command demo on the shared photos, and the class_mask example node.

Also what the demo leaves when it is killed or hung up on: its nodes and scratch folder go.
"""

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import tempfile
import time

from conftest import BIRD, RosProcess, wait_for
import cv2
from lint_paths import REPO
from node_harness import clean_exit, running_node
import numpy as np
from PIL import Image as PilImage
import pytest
from std_msgs.msg import Float32

pytestmark = pytest.mark.ros


def plain_environment():
    """
    Return this process's environment without what ros-wheels-bootstrapper set for its venv.

    ``make demo`` starts the venv of the test run (VENV, exported by ``make``),
    or the repo's .venv; its Python must bootstrap its own library path.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ('DISPLAY', '_ROS_WHEELS_BOOTSTRAP_COMPLETE')}
    own = os.path.realpath(sys.prefix)
    kept = [p for p in env.get('LD_LIBRARY_PATH', '').split(os.pathsep)
            if p and not os.path.realpath(p).startswith(own)]
    env['LD_LIBRARY_PATH'] = os.pathsep.join(kept)
    return env


def test_plain_environment_drops_the_bootstrap_of_this_venv(monkeypatch):
    monkeypatch.setenv('_ROS_WHEELS_BOOTSTRAP_COMPLETE', '1')
    monkeypatch.setenv('LD_LIBRARY_PATH', f'{sys.prefix}/lib{os.pathsep}/opt/other/lib')
    env = plain_environment()
    assert '_ROS_WHEELS_BOOTSTRAP_COMPLETE' not in env
    assert env['LD_LIBRARY_PATH'] == '/opt/other/lib'


def test_make_demo_headless_on_the_shared_photos(data_dir, tmp_path):
    env = plain_environment()
    result = subprocess.run(['make', '-s', 'demo', f'OUTPUT={tmp_path}'], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Three photos looped 4 times at 2 Hz: every one of the 12 frames, the first included.
    assert '3 photo(s) looped 4 times at 2 Hz (12 frames)' in result.stdout
    # On a loaded machine the node may drop a frame a newer one replaced; it says so.
    dropped = re.search(r'the deeplab node dropped (\d+) frame', result.stdout)
    dropped = int(dropped.group(1)) if dropped else 0
    written = 12 - dropped
    assert dropped <= 2 and f'{written} frame(s) written to {tmp_path}' in result.stdout
    assert result.stdout.count('bird 21') >= 4 - dropped
    assert result.stdout.count('dog 4') >= 4 - dropped
    labels = [cv2.imread(str(tmp_path / f'frame_{i:04d}_label.png'), cv2.IMREAD_UNCHANGED)
              for i in range(1, written + 1)]
    bird = next(m for m in labels if m.shape == (513, 513) and (m == BIRD).any())
    assert (bird == BIRD).mean() > 0.15
    picture = cv2.imread(str(tmp_path / 'frame_0001.png'))
    assert picture.shape[1] == 3 * labels[0].shape[1]  # camera | overlay | mask
    with PilImage.open(tmp_path / 'demo.gif') as animation:
        assert animation.n_frames == written
        # One size for every frame, the 128x128 dog included: three 240x240 parts over a
        # 3-row legend; the parts are filled (no band), so mostly not white.
        assert animation.size == (720, 240 + 3 * 22 + 8)
        frames = []
        for index in range(animation.n_frames):
            animation.seek(index)
            frames.append(np.asarray(animation.convert('RGB')))
    assert all((f[:240] != 255).any(axis=2).mean() > 0.5 for f in frames)


def test_class_coverage_example(pascal_model, bird_bgr):
    with running_node(pascal_model, 'mask_classes:=[bird]', name='deeplab') as (_, harness), \
            clean_exit(RosProcess(['-m', 'deeplab_ros.tools.class_coverage_example'])) as example:
        coverage = []
        harness.node.create_subscription(Float32, '/class_coverage/coverage', coverage.append,
                                         10)
        harness.wait_for_subscriber()
        # The example must be connected both ways before the frame is sent.
        assert wait_for(lambda: harness.node.count_subscribers('/deeplab/class_mask') >= 2
                        and harness.node.count_publishers('/class_coverage/coverage') >= 1,
                        20), 'the example never subscribed to class_mask'
        labels = harness.send(harness.frame(bird_bgr, 'bgr8', 'coverage'),
                              wanted=('class_mask',))
        mask = np.frombuffer(labels['class_mask'].data, np.uint8)
        expected = (mask > 0).mean()
        for i in range(20):  # a camera keeps sending; so does this test, until the log line
            if example.wait_for_output('class covers', timeout=1.0):
                break
            harness.publisher.publish(harness.frame(bird_bgr, 'bgr8', f'coverage-{i}'))
        assert 'class covers' in example.output, example.output
        # The example's line can come before its message reaches this process (or before
        # its publisher has matched this subscription): more frames, until one arrives.
        deadline = time.monotonic() + 20
        while not coverage and time.monotonic() < deadline:
            harness.publisher.publish(harness.frame(bird_bgr, 'bgr8', 'coverage-more'))
            wait_for(lambda: coverage, 1.0)
        assert coverage and abs(coverage[-1].data - expected) < 1e-6
        assert 0.15 < coverage[-1].data < 0.3


def children_of(pid):
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def command_of(pid):
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode()
    except OSError:
        return ''


def alive(pid):
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError:
        return False
    return state != 'Z'


@pytest.mark.parametrize('signum', [signal.SIGKILL, signal.SIGHUP])
def test_the_demos_children_and_scratch_folder_go_with_it(data_dir, tmp_path, signum):
    """Hardening II, 11: SIGKILL or SIGHUP to the demo left its nodes and /tmp folder."""
    demo = RosProcess(['-m', 'deeplab_ros.tools.demo', '--output', str(tmp_path)],
                      env={k: v for k, v in os.environ.items() if k != 'DISPLAY'})
    children = []
    try:
        assert demo.wait_for_output('starting the camera', timeout=60), demo.output
        # The camera is started just after the line.
        assert wait_for(lambda: len(children_of(demo.proc.pid)) == 2, 10)
        children = children_of(demo.proc.pid)
        assert len(children) == 2
        scratch = list(Path(tempfile.gettempdir()).glob(f'deeplab_demo_{demo.proc.pid}_*'))
        assert len(scratch) == 1
        demo.proc.send_signal(signum)
        demo.proc.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in children), 10)
        left = [pid for pid in children if alive(pid)]
        assert not left, [command_of(pid) for pid in left]
        if signum == signal.SIGHUP:                  # a clean stop: it removes its own
            assert demo.proc.returncode == 0 and not scratch[0].exists(), demo.output
        else:                                        # killed: the next demo removes it
            assert scratch[0].exists()
            from deeplab_ros.tools.demo import remove_stale_scratch
            remove_stale_scratch()
            assert not scratch[0].exists()
    finally:
        demo.stop()
        for pid in children:  # one that outlived the demo would outlive the test run too
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
