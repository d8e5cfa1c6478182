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

"""sensor_msgs/Image <-> numpy conversion, every encoding and every malformed field; clouds."""

import cv2
from deeplab_ros.engine.datasets import pascal_colormap
from deeplab_ros.engine.point_cloud import Intrinsics, labeled_points, POINT
from deeplab_ros.pipeline.cdr import Header, serialize_point_cloud
from deeplab_ros.ros.image_encoding import (array_to_image, compressed_to_array,
                                            image_to_array, ImageError)
import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CompressedImage, Image, PointCloud2, PointField

pytestmark = pytest.mark.ros


@pytest.fixture
def rgb():
    return np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)


def message(array, encoding, step=None, bigendian=0):
    """Pack ``array`` rows with ``step`` bytes per row (junk in the padding)."""
    rows = array.reshape(array.shape[0], -1)
    step = step or rows.shape[1]
    padded = np.full((rows.shape[0], step), 0xAB, dtype=np.uint8)
    padded[:, :rows.shape[1]] = rows
    return Image(height=array.shape[0], width=array.shape[1], encoding=encoding,
                 is_bigendian=bigendian, step=step, data=padded.tobytes())


@pytest.mark.parametrize('step_pad', [0, 5])
def test_rgb_bgr_and_alpha_keep_their_order(rgb, step_pad):
    width = rgb.shape[1]
    image, order = image_to_array(message(rgb, 'rgb8', width * 3 + step_pad))
    assert order == 'rgb' and np.array_equal(image, rgb)
    image, order = image_to_array(message(rgb[..., ::-1].copy(), 'bgr8', width * 3 + step_pad))
    assert order == 'bgr' and np.array_equal(image, rgb[..., ::-1])
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 9, np.uint8)])
    image, order = image_to_array(message(rgba, 'rgba8', width * 4 + step_pad))
    assert order == 'rgb' and np.array_equal(image, rgb)
    image, order = image_to_array(message(rgba[..., [2, 1, 0, 3]].copy(), 'bgra8'))
    assert order == 'bgr' and np.array_equal(image, rgb[..., ::-1])


def test_mono8_and_mono16_both_endians(rgb):
    gray = rgb[..., 0].copy()
    image, order = image_to_array(message(gray, 'mono8', 11))
    assert order == 'rgb' and image.shape == (6, 8, 3)
    assert np.array_equal(image[..., 1], gray)
    wide = gray.astype(np.uint16) * 257
    for dtype, bigendian in (('<u2', 0), ('>u2', 1)):
        raw = wide.astype(dtype).view(np.uint8).reshape(6, 8, 2)
        image, _ = image_to_array(message(raw, 'mono16', bigendian=bigendian))
        assert np.array_equal(image[..., 0], gray)


def test_yuyv_and_uyvy_decode_to_the_camera_colors():
    # BT.601 video-range YUV from OpenCV's I420 encoder, the convention cameras use.
    yy, xx = np.mgrid[0:6, 0:8]
    rgb = np.dstack([xx * 30, yy * 40, 200 - xx * 10]).astype(np.uint8)
    i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).ravel()
    y = i420[:48].reshape(6, 8)
    u = np.repeat(i420[48:60].reshape(3, 4), 2, axis=0)
    v = np.repeat(i420[60:72].reshape(3, 4), 2, axis=0)
    yuyv = np.empty((6, 16), np.uint8)
    yuyv[:, 0::2], yuyv[:, 1::4], yuyv[:, 3::4] = y, u, v
    uyvy = np.empty((6, 16), np.uint8)
    uyvy[:, 1::2], uyvy[:, 0::4], uyvy[:, 2::4] = y, u, v
    a, order = image_to_array(message(yuyv.reshape(6, 8, 2), 'yuv422_yuy2', step=20))
    b, _ = image_to_array(message(uyvy.reshape(6, 8, 2), 'yuv422'))
    assert order == 'rgb' and np.array_equal(a, b)
    # Same chroma samples as OpenCV's own I420 decoder sees: same colors.
    reference = cv2.cvtColor(i420.reshape(9, 8), cv2.COLOR_YUV2RGB_I420)
    assert np.abs(a.astype(int) - reference).max() <= 2


@pytest.mark.parametrize('fields, message_text', [
    ({'encoding': '32FC1'}, "unsupported encoding '32FC1'"),
    ({'height': 0}, 'empty image'),
    ({'width': 100000, 'height': 100000, 'step': 300000}, 'absurd image size'),
    ({'step': 3}, r'step 3 is smaller than a rgb8 row of 8 pixels \(24 bytes\)'),
    ({'data': bytes(100)}, r'truncated data: 100 bytes, expected step\*height = 24\*6 = 144'),
    ({'encoding': 'yuv422', 'width': 7, 'step': 14}, 'needs an even width'),
])
def test_malformed_messages_name_the_problem(rgb, fields, message_text):
    msg = message(rgb, 'rgb8')
    for name, value in fields.items():
        setattr(msg, name, value)
    with pytest.raises(ImageError, match=message_text):
        image_to_array(msg)


def test_array_to_image_round_trip(rgb):
    msg = array_to_image(rgb, 'rgb8')
    assert (msg.height, msg.width, msg.step, msg.encoding) == (6, 8, 24, 'rgb8')
    assert np.array_equal(image_to_array(msg)[0], rgb)
    labels = rgb[..., 0]
    mono = array_to_image(labels[:, ::2], 'mono8')  # non-contiguous input
    assert mono.step == 4 and bytes(mono.data) == labels[:, ::2].tobytes()
    with pytest.raises(ValueError, match='mono8 needs 1 channel'):
        array_to_image(rgb, 'mono8')


def test_compressed_images(rgb):
    ok, png = cv2.imencode('.png', rgb[..., ::-1])
    image, order = compressed_to_array(CompressedImage(format='png', data=png.tobytes()))
    assert order == 'bgr' and np.array_equal(image, rgb[..., ::-1])
    # A JPEG header (SOF0, 16x16) with garbage after it: checked, decoded, found broken.
    sof = b'\xff\xd8\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01'
    with pytest.raises(ImageError, match="cannot decode compressed image \\(format 'jpeg'"):
        compressed_to_array(CompressedImage(format='jpeg', data=sof + b'garbage'))
    with pytest.raises(ImageError, match='in no known image format'):
        compressed_to_array(CompressedImage(format='jpeg', data=b'\xff\xd8garbage'))
    with pytest.raises(ImageError, match=r'compressed image in GIF format is not accepted '
                                         r'\(accepted: JPEG, PNG\)'):
        compressed_to_array(CompressedImage(format='gif', data=b'GIF89a' + b'\0' * 20))
    with pytest.raises(ImageError, match='empty compressed image'):
        compressed_to_array(CompressedImage(format='jpeg'))


def test_parity_with_cv_bridge(rgb):
    cv_bridge = pytest.importorskip('cv_bridge', reason='cv_bridge is not installed here '
                                    '(no ROS 2 cv_bridge on PyPI)')
    bridge = cv_bridge.CvBridge()
    msg = bridge.cv2_to_imgmsg(rgb[..., ::-1].copy(), encoding='bgr8')
    assert np.array_equal(image_to_array(msg)[0], bridge.imgmsg_to_cv2(msg, 'bgr8'))
    ours = array_to_image(rgb, 'rgb8')
    assert np.array_equal(bridge.imgmsg_to_cv2(ours, 'rgb8'), rgb)


def cloud_of(points):
    """Serialize ``points`` as the node does and read them back with rclpy."""
    raw = serialize_point_cloud(Header(7, 8, 'camera'), points, 'depth_optical')
    return deserialize_message(raw, PointCloud2)


def test_a_dense_cloud_serializes_as_pcl_and_rviz_read_it():
    depth = np.full((4, 6), 2.0, np.float32)
    depth[1, 2] = 0.0
    labels = np.arange(24, dtype=np.uint8).reshape(4, 6) % 21
    camera = Intrinsics.from_k([5.0, 0, 2.5, 0, 5.0, 1.5, 0, 0, 1], 6, 4)
    points = labeled_points(depth, labels, camera, pascal_colormap())
    msg = cloud_of(points)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (7, 8)
    assert msg.header.frame_id == 'depth_optical'
    assert (msg.height, msg.width, msg.is_dense, msg.is_bigendian) == (1, 23, True, False)
    assert (msg.point_step, msg.row_step) == (20, 20 * 23)
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ('x', 0, PointField.FLOAT32, 1), ('y', 4, PointField.FLOAT32, 1),
        ('z', 8, PointField.FLOAT32, 1), ('rgb', 12, PointField.FLOAT32, 1),
        ('label', 16, PointField.UINT32, 1)]
    assert bytes(msg.data) == points.tobytes()


def test_an_organized_cloud_serializes_with_its_rows_and_nan_points():
    depth = np.full((4, 6), 2.0, np.float32)
    depth[1, 2] = 0.0
    labels = np.arange(24, dtype=np.uint8).reshape(4, 6) % 21
    camera = Intrinsics.from_k([5.0, 0, 2.5, 0, 5.0, 1.5, 0, 0, 1], 6, 4)
    points = labeled_points(depth, labels, camera, pascal_colormap(), organized=True)
    msg = cloud_of(points)
    assert (msg.height, msg.width, msg.is_dense) == (4, 6, False)
    assert (msg.point_step, msg.row_step) == (20, 20 * 6)
    back = np.frombuffer(bytes(msg.data), POINT).reshape(msg.height, msg.width)
    assert np.isnan(back['z'][1, 2]) and np.isnan(back['x'][1, 2])
    assert back['z'][1, 3] == 2.0 and back['label'][1, 2] == labels[1, 2]
    assert np.count_nonzero(np.isnan(back['z'])) == 1
    assert bytes(msg.data) == points.tobytes()
