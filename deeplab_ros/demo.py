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

Input: ``--input`` (device, video, image or folder); by default a webcam when
one opens, else the sample photos in ``../shared/data/images``. Model:
``--model`` (path or zoo name); by default the PASCAL model in
``../shared/data/models`` when present (works offline), else a zoo download.
Pictures go to ``demo_output/``; a finite input ends the demo by itself.
"""

import argparse
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time

import cv2
from deeplab_ros.dds_profile import PROFILE_FILE, profile_variable
from deeplab_ros.model_zoo import ZOO
from deeplab_ros.node_parameters import DEFAULT_MODEL
from deeplab_ros.viewer import ViewerNode
import rclpy
from rclpy.parameter import Parameter

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PACKAGE_ROOT.parent / 'shared' / 'data'
SHARED_MODEL = 'models/deeplabv3_mnv2_pascal_quant.tflite'
QUIET_AFTER_END = 5.0  # seconds without output after the camera's last frame


def shared_data():
    root = Path(os.environ.get('DEEPLAB_ROS_TEST_DATA') or SHARED_DATA)
    return root if root.is_dir() else None


def default_input(scratch):
    """Return a webcam that opens, else a folder (in ``scratch``) of the sample photos."""
    if Path('/dev/video0').exists():
        capture = cv2.VideoCapture(0)
        opened = capture.isOpened()
        capture.release()
        if opened:
            return '0'
    data = shared_data()
    if data is None:
        sys.exit('demo: no webcam and no sample photos (../shared/data/images); '
                 'pass INPUT=<video, image or folder>')
    for photo in sorted((data / 'images').glob('*.bmp')):
        if not photo.stem.endswith('_mask'):  # the reference masks are not camera frames
            (Path(scratch) / photo.name).symlink_to(photo)
    return scratch


def default_model():
    data = shared_data()
    if data is not None and (data / SHARED_MODEL).is_file():
        return str(data / SHARED_MODEL)
    return DEFAULT_MODEL


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


def use_large_image_profile():
    """Give this process and its children the Fast DDS profile, unless the user chose one."""
    variable = profile_variable()
    if variable:
        os.environ[variable] = str(PACKAGE_ROOT / 'config' / PROFILE_FILE)


def main(argv=None):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='deeplab_demo_') as scratch:
        return run(args, args.input or default_input(scratch))


def run(args, source):
    model = args.model or default_model()
    is_photos = not (source.isdigit() or source.startswith('/dev/')
                     or Path(source).suffix.lower() in ('.mp4', '.avi', '.mkv', '.mov'))
    framerate = args.framerate or (2.0 if is_photos else 15.0)
    args.output.mkdir(parents=True, exist_ok=True)
    for old in args.output.glob('frame_*.png'):
        old.unlink()
    use_large_image_profile()  # before rclpy starts here: this process hosts the viewer
    print(f'demo: input {source}, model {model}, output {args.output}/', flush=True)

    python = [sys.executable, '-m']
    deeplab = subprocess.Popen(python + ['deeplab_ros.node', '--ros-args', '-r',
                                         'image:=/image_raw', '-p', f'model_path:={model}'])
    camera = subprocess.Popen(python + [
        'deeplab_ros.camera_node', '--ros-args', '-p', f'source:={source}',
        '-p', f'framerate:={framerate}', '-p', 'loop:=false',
        '-p', 'wait_for_subscribers:=2'])

    rclpy.init()
    viewer = ViewerNode(cli_args=['--ros-args', '-r', 'image:=/image_raw'], parameter_overrides=[
        Parameter('output_dir', value=str(args.output)),
        Parameter('display', value=not args.no_window and bool(os.environ.get('DISPLAY')))])
    code = 0
    last_progress = time.monotonic()
    try:
        while True:
            seen = viewer.frames
            rclpy.spin_once(viewer, timeout_sec=0.1)
            if viewer.frames != seen:
                last_progress = time.monotonic()
            if deeplab.poll() is not None:
                print('demo: the deeplab node stopped (see its message above)', file=sys.stderr)
                code = 1
                break
            if args.max_frames and viewer.frames >= args.max_frames:
                break
            if camera.poll() is not None:
                code = camera.returncode
                # The camera is done: wait for the last frames to come through.
                if code or time.monotonic() - last_progress > QUIET_AFTER_END:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        for process in (camera, deeplab):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # the nodes shut down cleanly
        for process in (camera, deeplab):
            process.wait(timeout=15)
        viewer.destroy_node()
        rclpy.try_shutdown()
    print(f'demo: {viewer.frames} frame(s) written to {args.output.resolve()}/ '
          '(frame_NNNN.png: camera | overlay | mask; frame_NNNN_label.png: class ids)')
    return code if viewer.frames else 1


if __name__ == '__main__':
    sys.exit(main())
