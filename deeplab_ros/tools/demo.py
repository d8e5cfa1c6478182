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
``make demo``: camera node, deeplab node and viewer over real ROS 2 topics.

The start order leaves nothing to timing: the deeplab node starts first, and
the camera is started only once the node's /diagnostics say it is active and
the viewer is subscribed to its outputs; the camera then holds its first
frame until the node and the viewer subscribe to it. Photos are looped for a
few seconds; the demo ends when every camera frame has its outputs, or says
which stage is missing. Input: ``--input``, else a webcam that opens, else the
sample photos (``sample_data``: shared data or a one-time download). Pictures
and an animation go to ``demo_output/``.
"""

import argparse
import math
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import cv2
from deeplab_ros.engine.downloads import DownloadError
from deeplab_ros.engine.image_files import IMAGE_SUFFIXES
from deeplab_ros.engine.model_zoo import ZOO
from deeplab_ros.engine.sample_data import DEMO_MODEL, DEMO_PHOTOS, fetch, find_data_dir
from deeplab_ros.ros.dds_profile import use_large_image_profile
from deeplab_ros.ros.ros_main import PARENT_VARIABLE, run_node
from deeplab_ros.tools.viewer import VIEWED_OUTPUTS, ViewerNode
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rclpy.parameter import Parameter

PLAY_SECONDS = 6.0       # a finite input is looped about this long
READY_TIMEOUT = 120.0    # model loading on a slow machine
DRAIN_TIMEOUT = 15.0     # after the camera's last frame, for the last outputs


def sample_data():
    """Return the sample photos and model folder: shared data, cache, or a download now."""
    return find_data_dir() or fetch()


SCRATCH_PREFIX = 'deeplab_demo_'


def remove_stale_scratch():
    """Remove the scratch folders of demos that were killed (their pid is in the name)."""
    for folder in Path(tempfile.gettempdir()).glob(f'{SCRATCH_PREFIX}*_*'):
        pid = folder.name[len(SCRATCH_PREFIX):].split('_', 1)[0]
        if pid.isdigit() and not Path(f'/proc/{pid}').exists():
            shutil.rmtree(folder, ignore_errors=True)


def _ignore_ctrl_c():
    """
    In a child, before exec: ignore Ctrl-C until the node installs its own handlers.

    One that lands while Python imports would end it with a traceback. The
    demo stops its children with SIGTERM, which ends them cleanly at any point.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def default_input(scratch):
    """Return a webcam that opens, else a folder (in ``scratch``) of the sample photos."""
    if Path('/dev/video0').exists():
        capture = cv2.VideoCapture(0)
        opened = capture.isOpened()
        capture.release()
        if opened:
            return '0'
    images = sample_data() / 'images'
    for name in DEMO_PHOTOS:
        (Path(scratch) / name).symlink_to(images / name)
    return scratch


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--input', help='device index or /dev/video*, video, image or folder')
    parser.add_argument('--model', help='model path or zoo name: ' + ', '.join(sorted(ZOO)))
    parser.add_argument('--output', type=Path, default=Path('demo_output'),
                        help='folder for the pictures (default: %(default)s)')
    parser.add_argument('--max-frames', type=int, default=0,
                        help='stop after this many frames (0: at the end of the input)')
    parser.add_argument('--framerate', type=float, default=0.0,
                        help='camera frames per second (default: 2 for photos, 15 otherwise)')
    parser.add_argument('--no-window', action='store_true', help='never open a window')
    return parser.parse_args(argv)


class Demo:
    """Starts the nodes in order, and decides (``step``, once per spin) when it is over."""

    def __init__(self, args, source, model):
        self.args = args
        path = Path(source)
        self.photos = (sum(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())
                       if path.is_dir() else int(path.suffix.lower() in IMAGE_SUFFIXES))
        self.framerate = args.framerate or (2.0 if self.photos else 15.0)
        self.source = source
        self.camera = self.viewer = None
        self.problem = None
        self.ready = False
        self.dropped = 0  # frames the node replaced by newer ones (its diagnostics say)
        self._deadline = time.monotonic() + READY_TIMEOUT
        python = [sys.executable, '-m']
        # The children end with the demo, however it ends (even SIGKILL); a check after
        # they ask Linux for that covers a demo that died while they were starting.
        self._child_env = dict(os.environ, **{PARENT_VARIABLE: str(os.getpid())})
        self.deeplab = self._start(python + [
            'deeplab_ros.node.deeplab_node', '--ros-args', '-r', 'image:=/image_raw',
            '-p', f'model_path:={model}', '-p', 'qos:=reliable'])
        self._camera_args = python + [
            'deeplab_ros.tools.camera_node', '--ros-args', '-p', f'source:={source}',
            '-p', f'framerate:={self.framerate}', '-p', f'loop:={bool(self.photos)}',
            '-p', f'max_frames:={self._frames_to_play()}', '-p', 'wait_for_subscribers:=2']

    def _start(self, args):
        return subprocess.Popen(args, env=self._child_env, preexec_fn=_ignore_ctrl_c)

    def _frames_to_play(self):
        if self.photos:
            loops = max(1, math.ceil(PLAY_SECONDS * self.framerate / self.photos))
            frames = loops * self.photos
            print(f'demo: {self.photos} photo(s) looped {loops} times at '
                  f'{self.framerate:g} Hz ({frames} frames)', flush=True)
            return min(frames, self.args.max_frames or frames)
        return self.args.max_frames

    def make_viewer(self):
        self.viewer = ViewerNode(cli_args=['--ros-args', '-r', 'image:=/image_raw'],
                                 parameter_overrides=[
            Parameter('output_dir', value=str(self.args.output)),
            Parameter('display', value=not self.args.no_window and bool(os.environ.get(
                'DISPLAY')))])
        self.viewer.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                        10)
        return self.viewer

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name != '/deeplab: segmentation':
                continue
            values = {kv.key: kv.value for kv in status.values}
            self.ready = (values.get('lifecycle_state') == 'active' and set(VIEWED_OUTPUTS)
                          <= set(values.get('subscribed_outputs', '').split(',')))
            if values.get('frames_dropped', '').isdigit():
                self.dropped = int(values['frames_dropped'])

    def step(self, viewer):
        """Return True when the demo is over (``self.problem`` says why, if it failed)."""
        now = time.monotonic()
        if self.deeplab.poll() is not None:
            self.problem = 'the deeplab node stopped (see its message above)'
            return True
        if self.camera is None:
            if self.ready:
                print('demo: the deeplab node is active and the viewer subscribed; starting '
                      'the camera', flush=True)
                self.camera = self._start(self._camera_args)
            elif now > self._deadline:
                self.problem = (f'the deeplab node did not become active with the viewer '
                                f'subscribed within {READY_TIMEOUT:.0f} s')
                return True
            return False
        if self.args.max_frames and viewer.frames >= self.args.max_frames:
            return True
        if self.camera.poll() is None:
            self._deadline = now + DRAIN_TIMEOUT
            return False
        if self.camera.returncode:
            self.problem = 'the camera stopped with an error (see its message above)'
            return True
        # The node segments the newest frame: on a busy machine one replaced by the next
        # is dropped by design, and counted in its diagnostics.
        if viewer.frames + self.dropped >= viewer.camera_frames > 0:
            return True
        if now > self._deadline:
            self.problem = (f'{viewer.camera_frames - viewer.frames} of '
                            f'{viewer.camera_frames} camera frame(s) got no '
                            f'{viewer.missing_parts()} from the deeplab node within '
                            f'{DRAIN_TIMEOUT:.0f} s')
            return True
        return False

    def stop_children(self):
        for process in (self.camera, self.deeplab):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)  # the nodes shut down cleanly
        for process in (self.camera, self.deeplab):
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def write_animation(output, pictures):
    """Write ``demo.gif`` from the viewer's animation frames (all of one size)."""
    from PIL import Image as PilImage
    images = [PilImage.fromarray(np.ascontiguousarray(p[..., ::-1])) for p in pictures]
    target = output / 'demo.gif'
    images[0].save(target, save_all=True, append_images=images[1:], duration=500, loop=0)
    return target


def main(argv=None):
    args = parse_args(argv)
    remove_stale_scratch()
    with tempfile.TemporaryDirectory(prefix=f'{SCRATCH_PREFIX}{os.getpid()}_') as scratch:
        try:
            source = args.input or default_input(scratch)
            model = args.model or str(sample_data() / DEMO_MODEL)
        except DownloadError as err:
            print(f'demo: {err}', file=sys.stderr)
            return 1
        return run(args, source, model)


def run(args, source, model):
    args.output.mkdir(parents=True, exist_ok=True)
    for old in [*args.output.glob('frame_*.png'), args.output / 'demo.gif']:
        old.unlink(missing_ok=True)
    use_large_image_profile()  # before rclpy starts here: this process hosts the viewer
    print(f'demo: input {source}, model {model}, output {args.output}/', flush=True)
    demo = Demo(args, source, model)
    try:
        run_node(demo.make_viewer, finished=demo.step)
    finally:
        demo.stop_children()
    viewer = demo.viewer
    animation = (write_animation(args.output, viewer.animation)
                 if viewer and viewer.animation else None)
    print(f'demo: {viewer.frames if viewer else 0} frame(s) written to '
          f'{args.output.resolve()}/ (frame_NNNN.png: camera | overlay | mask; '
          f'frame_NNNN_label.png: class ids' + (f'; {animation.name}: all frames)' if animation
                                                else ')'))
    if demo.dropped:
        print(f'demo: the deeplab node dropped {demo.dropped} frame(s): a newer one arrived '
              'while it was busy (it always segments the newest frame)')
    if demo.problem:
        print(f'demo: {demo.problem}', file=sys.stderr)
        return 1
    return 0  # done, or stopped by a signal: every failure above names its problem


if __name__ == '__main__':
    sys.exit(main())
