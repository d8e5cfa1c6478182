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

"""camera_node: folders, videos and bad devices, over real DDS."""

import os

import cv2
from deeplab_ros.ros.image_encoding import image_to_array
from deeplab_ros.tools.camera_node import CaptureSource, SourceError
import numpy as np
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from conftest import spin_until  # noqa: I100  (test helper, not a third-party module)

pytestmark = pytest.mark.ros


def listen(context, topic_prefix=''):
    node = rclpy.create_node('camera_listener', context=context)
    got = {'image': [], 'info': []}
    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(Image, f'{topic_prefix}image_raw', got['image'].append, qos)
    node.create_subscription(CameraInfo, f'{topic_prefix}camera_info', got['info'].append, qos)
    return node, got


def camera(ros_process, source, *params):
    args = ['-m', 'deeplab_ros.tools.camera_node', '--ros-args', '-p', f'source:={source}',
            '-p', 'loop:=false', '-p', 'wait_for_subscribers:=1', '-p', 'framerate:=20.0']
    for param in params:
        args += ['-p', param]
    return ros_process(args)


@pytest.fixture
def folder(tmp_path):
    for i, value in enumerate((40, 120, 200)):
        image = np.full((48, 64, 3), value, np.uint8)
        image[:, :, 2] = i * 50  # red channel (BGR) tells the frames apart
        cv2.imwrite(str(tmp_path / f'img_{i}.png'), image)
    (tmp_path / 'notes.txt').write_text('not an image')
    return tmp_path


def test_folder_of_images_in_order_then_clean_stop(ros_context, ros_process, folder):
    node, got = listen(ros_context)
    process = camera(ros_process, folder, 'frame_id:=test_cam', 'encoding:=rgb8')
    assert spin_until(node, lambda: len(got['image']) >= 3 and len(got['info']) >= 3, 20), \
        process.stop()[1]
    process.proc.wait(timeout=10)  # ends by itself after the last image
    code, output = process.stop()
    assert code == 0 and 'after 3 frames' in output and 'Traceback' not in output
    for i, (image, info) in enumerate(zip(got['image'], got['info'])):
        assert (image.width, image.height, image.encoding) == (64, 48, 'rgb8')
        assert image.header.frame_id == 'test_cam' and info.header == image.header
        assert (info.width, info.height) == (64, 48)
        array, order = image_to_array(image)
        assert order == 'rgb' and array[0, 0, 0] == i * 50
    node.destroy_node()


def test_video_file(ros_context, ros_process, tmp_path):
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 10, (80, 60))
    for i in range(5):
        writer.write(np.full((60, 80, 3), i * 40, np.uint8))
    writer.release()
    node, got = listen(ros_context)
    process = camera(ros_process, video)
    assert spin_until(node, lambda: len(got['image']) >= 5, 20), process.stop()[1]
    process.proc.wait(timeout=10)
    code, output = process.stop()
    assert code == 0 and 'after 5 frames' in output
    image = got['image'][2]
    assert (image.width, image.height, image.encoding) == (80, 60, 'bgr8')
    assert abs(int(image_to_array(image)[0][30, 40, 0]) - 80) < 10
    node.destroy_node()


@pytest.mark.parametrize('source, message', [
    ('/dev/video97', 'cannot open camera /dev/video97: /dev/video97 does not exist'),
    ('97', 'cannot open camera 97: /dev/video97 does not exist'),
    ('/no/such/file.mp4', "source '/no/such/file.mp4' is not a device index"),
])
def test_bad_source_is_a_clear_error(ros_process, source, message):
    process = camera(ros_process, source)
    process.proc.wait(timeout=30)
    code, output = process.stop()
    assert code == 1 and message in output and 'Traceback' not in output


def test_empty_folder(ros_process, tmp_path):
    process = camera(ros_process, tmp_path)
    process.proc.wait(timeout=30)
    code, output = process.stop()
    assert code == 1 and 'no images' in output


def test_a_folder_source_reads_any_name_and_skips_bombs_with_one_line(tmp_path):
    """Hardening II, 2 and 6: a 2.4 KB TIFF peaked at 1.8 GB; a Latin-1 name crashed OpenCV."""
    from image_bombs import BOMBS
    ok, png = cv2.imencode('.png', np.full((48, 64, 3), 7, np.uint8))
    with open(os.path.join(os.fsencode(tmp_path), b'a_caf\xe9.png'), 'wb') as handle:
        handle.write(png.tobytes())
    (tmp_path / 'b_bomb.png').write_bytes(BOMBS['bomb.png'][0])
    (tmp_path / 'c_bomb.jpg').write_bytes(BOMBS['far_sof.jpg'][0])
    skipped = []
    source = CaptureSource(str(tmp_path), on_skip=skipped.append)
    frame = source.read()
    assert frame.shape == (48, 64, 3) and (frame == 7).all()
    assert source.read() is None
    assert skipped == [
        f'{tmp_path}/b_bomb.png: absurd image size 30000x30000 (over 67108864 pixels), skipped',
        f'{tmp_path}/c_bomb.jpg: absurd image size 30000x30000 (over 67108864 pixels), skipped']


def test_a_pattern_plays_the_photos_of_a_folder_without_their_masks(ros_context, ros_process,
                                                                    tmp_path):
    """Hardening III, 17: a camera folder played the *_mask.bmp reference masks as well."""
    for name, value in (('a_segmentation.bmp', 10), ('a_segmentation_mask.bmp', 1),
                        ('b_segmentation.png', 20), ('b_segmentation_mask.bmp', 2)):
        cv2.imwrite(str(tmp_path / name), np.full((24, 32, 3), value, np.uint8))
    node, got = listen(ros_context)
    process = camera(ros_process, tmp_path, "pattern:='*_segmentation.*'")  # YAML: quoted
    assert spin_until(node, lambda: len(got['image']) >= 2, 20), process.stop()[1]
    process.proc.wait(timeout=10)
    code, output = process.stop()
    assert code == 0 and 'after 2 frames' in output, output
    assert [image_to_array(image)[0][0, 0, 0] for image in got['image']] == [10, 20]
    node.destroy_node()
    assert len(CaptureSource(str(tmp_path))._images) == 4  # the default plays every image
    with pytest.raises(SourceError, match=r"no images \(.*\) matching '\*.BMP' in folder"):
        CaptureSource(str(tmp_path), pattern='*.BMP')
