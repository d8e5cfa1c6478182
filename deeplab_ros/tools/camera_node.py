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
``camera_node``: OpenCV frames on ``image_raw`` and ``camera_info``, for machines without usb_cam.

The source is a device (index ``0`` or ``/dev/video0``), a video file, an
image file or a folder of images (those whose name matches ``pattern``, in
name order). Files and folders loop when ``loop`` is true; otherwise the node
stops cleanly after the last frame.
"""

import os
from pathlib import Path
import sys

import cv2
from deeplab_ros.engine.image_files import check_size, folder_images, IMAGE_SUFFIXES, \
    ImageError, printable, read_image_file
from deeplab_ros.ros.image_encoding import array_to_image
from deeplab_ros.ros.parameters import declare, on_parameters, read, Spec
from deeplab_ros.ros.ros_main import run_node
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

SETTLE_NS = 1_000_000_000

PARAMETERS = {
    'source': Spec('0', 'Device index or path (/dev/video0), video file, image file or '
                        'folder of images', read_only=True, dynamic_typing=True),
    'framerate': Spec(30.0, 'Frames published per second', floating=(0.1, 240.0)),
    'pattern': Spec('*', 'A folder source plays only the images whose name matches this '
                         "glob (e.g. '*_segmentation.bmp', leaving out the *_mask.bmp next to "
                         'them)', read_only=True),
    'image_width': Spec(0, 'Capture width asked of a device; 0 keeps its default',
                        read_only=True, integer=(0, 8192)),
    'image_height': Spec(0, 'Capture height asked of a device; 0 keeps its default',
                         read_only=True, integer=(0, 8192)),
    'encoding': Spec('bgr8', 'Encoding of image_raw', read_only=True, choices=('bgr8', 'rgb8')),
    'frame_id': Spec('camera', 'header.frame_id of image_raw and camera_info'),
    'loop': Spec(True, 'Start files and folders again at their end; false stops the node'),
    'max_frames': Spec(0, 'Stop the node after publishing this many frames; 0 never',
                       read_only=True, integer=(0, 1_000_000_000)),
    'wait_for_subscribers': Spec(0, 'Hold the first frame until image_raw has this many '
                                    'subscribers (for finite inputs)', read_only=True,
                                 integer=(0, 100)),
}


class SourceError(RuntimeError):
    """A camera source that cannot be opened; the message says why and what to try."""


def _device_problem(device):
    if isinstance(device, int):
        device = f'/dev/video{device}'
    if not os.path.exists(device):
        present = sorted(str(p) for p in Path('/dev').glob('video*'))
        return f'{device} does not exist (video devices here: {", ".join(present) or "none"})'
    if not os.access(device, os.R_OK | os.W_OK):
        return (f'no permission to open {device}: add your user to its group '
                f'(usually "video") and log in again')
    return f'{device} exists but OpenCV could not open it (busy, or not a capture device?)'


class CaptureSource:
    """Yields BGR frames from a device, a video, an image or a folder of images."""

    def __init__(self, source, width=0, height=0, on_skip=print, pattern='*'):
        self.name = str(source)
        self._on_skip = on_skip  # told, in one line, about each frame that is left out
        self._images = None
        self._capture = None
        path = Path(self.name).expanduser()
        if self.name.isdigit() or self.name.startswith('/dev/'):
            device = int(self.name) if self.name.isdigit() else self.name
            self._capture = cv2.VideoCapture(device)
            if not self._capture.isOpened():
                raise SourceError(f'cannot open camera {self.name}: {_device_problem(device)}')
            if width and height:
                self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            self.is_device = True
            return
        self.is_device = False
        if path.is_dir():
            self._images = folder_images(path, pattern)
            if not self._images:
                matching = f' matching {pattern!r}' if pattern != '*' else ''
                raise SourceError(f'no images ({", ".join(IMAGE_SUFFIXES)}){matching} in folder '
                                  f'{path}')
        elif path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            self._images = [path]
        elif path.is_file():
            try:
                str(path).encode('utf-8')
            except UnicodeEncodeError:  # OpenCV 5 crashes on such a name
                raise SourceError(f'cannot open video {printable(path)}: its name is not valid '
                                  'UTF-8, which OpenCV cannot take; rename it') from None
            self._capture = cv2.VideoCapture(str(path))
            if not self._capture.isOpened():
                raise SourceError(f'cannot open video file {path}: OpenCV cannot decode it')
        else:
            raise SourceError(f"source '{self.name}' is not a device index, /dev/video* path, "
                              'video, image or folder of images that exists')
        self._next = 0

    def read(self):
        """Return the next BGR frame, or None at the end of a file or folder."""
        if self._images is not None:
            while self._next < len(self._images):
                path = self._images[self._next]
                self._next += 1
                try:
                    frame = read_image_file(path)
                except (ImageError, OSError) as err:
                    self._on_skip(f'{printable(path)}: {getattr(err, "strerror", None) or err}, '
                                  'skipped')
                    continue
                if frame is not None:
                    return frame
                self._on_skip(f'{printable(path)}: cannot read as an image, skipped')
            return None
        while True:
            ok, frame = self._capture.read()
            if not ok:
                return None
            try:
                check_size(frame.shape[1], frame.shape[0], 'video frame')
            except ImageError as err:
                self._on_skip(f'{self.name}: {err}, skipped')
                continue
            return frame

    def rewind(self):
        if self._images is not None:
            self._next = 0
        elif not self.is_device:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def close(self):
        if self._capture is not None:
            self._capture.release()


class CameraNode(Node):
    """Publishes a CaptureSource at ``framerate`` with matching image and camera_info headers."""

    def __init__(self, **kwargs):
        super().__init__('camera', **kwargs)
        declare(self, PARAMETERS)
        self.source = None
        self.frames = 0
        self.finished = False

    def start(self):
        """Open the source and start publishing; SourceError or ValueError if it cannot."""
        param = read(self, PARAMETERS)
        self.source = CaptureSource(str(param['source']), param['image_width'],
                                    param['image_height'], on_skip=self.get_logger().warning,
                                    pattern=param['pattern'])
        qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        self._image_pub = self.create_publisher(Image, 'image_raw', qos)
        self._info_pub = self.create_publisher(CameraInfo, 'camera_info', qos)
        self._encoding = param['encoding']
        self._wait_for = param['wait_for_subscribers']
        self._max_frames = param['max_frames']
        self._ready_at = None
        self._timer = self.create_timer(1.0 / param['framerate'], self._tick)
        on_parameters(self, apply=self._on_parameters, table=PARAMETERS)
        self.get_logger().info(f'publishing {param["source"]} on {self._image_pub.topic_name} '
                               f'at {param["framerate"]} Hz ({self._encoding})')

    def close(self):
        if self.source is not None:
            self.source.close()

    def _on_parameters(self, params):
        for param in params:
            if param.name == 'framerate':
                self._timer.timer_period_ns = int(1e9 / float(param.value))

    def _subscribers_ready(self):
        if not self._wait_for:
            return True
        if self._image_pub.get_subscription_count() < self._wait_for:
            return False
        # Give the subscribers' own outputs a moment to be discovered too.
        now = self.get_clock().now().nanoseconds
        self._ready_at = self._ready_at or now + SETTLE_NS
        return now >= self._ready_at

    def _tick(self):
        if not self._subscribers_ready():
            return
        frame = self.source.read()
        if frame is None and self.get_parameter('loop').value and not self.source.is_device:
            self.source.rewind()
            frame = self.source.read()
        if frame is None:
            self._finish(f'end of {self.source.name}')
            return
        if self._encoding == 'rgb8':
            frame = frame[..., ::-1]
        msg = array_to_image(frame, self._encoding)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.get_parameter('frame_id').value
        info = CameraInfo(header=msg.header, height=msg.height, width=msg.width)
        self._image_pub.publish(msg)
        self._info_pub.publish(info)
        self.frames += 1
        if self.frames == self._max_frames:
            self._finish(f'max_frames reached on {self.source.name}')

    def _finish(self, why):
        self.get_logger().info(f'{why} after {self.frames} frames')
        self.finished = True
        self._timer.cancel()


def main(args=None):
    return run_node(CameraNode, args, startup_errors=(SourceError, ValueError),
                    finished=lambda node: node.finished)


if __name__ == '__main__':
    sys.exit(main())
