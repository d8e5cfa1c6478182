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

"""The labeled cloud's geometry and the depth-to-color pairing, without ROS."""

import threading
import time

from deeplab_ros.engine.point_cloud import AlignmentError, depth_in_metres, Intrinsics, \
    labeled_points, labels_at, packed_rgb
from deeplab_ros.node.depth_input import DepthInput
import numpy as np
import pytest

K = [400.0, 0.0, 160.5, 0.0, 410.0, 120.25, 0.0, 0.0, 1.0]
COLORS = np.random.default_rng(0).integers(0, 256, (256, 3)).astype(np.uint8)


def scene(width=320, height=240):
    """Return a plane at 2 m, a nearer box at 1 m labelled 15 (person), invalid pixels."""
    depth = np.full((height, width), 2.0, np.float32)
    labels = np.zeros((height, width), np.uint8)
    depth[60:180, 100:200] = 1.0
    labels[60:180, 100:200] = 15
    depth[0:10, :] = 0.0          # no reading
    depth[10:20, :] = np.nan      # no reading (32FC1)
    depth[20:30, :] = 25.0        # beyond max_depth
    return depth, labels


def pixels_of(points, camera):
    u = np.rint(points['x'] * camera.fx / points['z'] + camera.cx).astype(int)
    v = np.rint(points['y'] * camera.fy / points['z'] + camera.cy).astype(int)
    return u, v


def test_every_point_follows_the_pinhole_model_and_carries_its_pixels_label():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    points = labeled_points(depth, labels, camera, COLORS, max_depth=10.0)
    assert len(points) == 320 * (240 - 30)  # the three invalid bands dropped
    u, v = pixels_of(points, camera)
    np.testing.assert_array_equal(points['z'], depth[v, u])
    np.testing.assert_allclose(points['x'], (u - camera.cx) * depth[v, u] / camera.fx,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(points['y'], (v - camera.cy) * depth[v, u] / camera.fy,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(points['label'], labels[v, u])
    np.testing.assert_array_equal(points['rgb'], packed_rgb(COLORS)[labels[v, u]])
    assert points.dtype.itemsize == 20 and points.flags.c_contiguous


def test_rgb_is_packed_as_pcl_reads_it():
    colors = np.array([[1, 2, 3]], np.uint8)
    assert packed_rgb(colors).view(np.uint32)[0] == 0x010203


def test_stride_classes_and_range():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    strided = labeled_points(depth, labels, camera, COLORS, stride=2, max_depth=10.0)
    u, v = pixels_of(strided, camera)
    assert len(strided) == 160 * 105 and not (u % 2).any() and not (v % 2).any()
    people = labeled_points(depth, labels, camera, COLORS, class_ids=[15])
    assert len(people) == 120 * 100 and set(people['label']) == {15}
    near = labeled_points(depth, labels, camera, COLORS, min_depth=1.5, max_depth=10.0)
    assert len(near) == 320 * 210 - 120 * 100 and (near['z'] >= 1.5).all()


def test_millimetres_and_metres_give_the_same_cloud():
    depth, labels = scene()
    millimetres = np.nan_to_num(depth * 1000).astype(np.uint16)
    camera = Intrinsics.from_k(K, 320, 240)
    a = labeled_points(depth_in_metres(millimetres, '16UC1'), labels, camera, COLORS,
                       max_depth=10.0)
    b = labeled_points(depth_in_metres(depth, '32FC1'), labels, camera, COLORS, max_depth=10.0)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(AlignmentError, match="'mono8' is not a depth image"):
        depth_in_metres(millimetres, 'mono8')


def test_half_resolution_depth_scales_the_camera_matrix():
    depth, labels = scene()
    half = depth[::2, ::2].copy()
    camera = Intrinsics.from_k(K, 320, 240)
    points = labeled_points(half, labels, camera, COLORS, max_depth=10.0)
    scaled = camera.scaled_to(160, 120)
    assert (scaled.fx, scaled.cx, scaled.fy, scaled.cy) == (200.0, 80.25, 205.0, 60.125)
    u, v = pixels_of(points, scaled)
    np.testing.assert_allclose(points['x'], (u - scaled.cx) * half[v, u] / scaled.fx,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(points['label'], labels_at(labels, 120, 80 * 2)[v, u])
    np.testing.assert_array_equal(points['label'], labels[2 * v + 1, 2 * u + 1])


def test_an_unalignable_depth_is_refused_never_wrong_points():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    with pytest.raises(AlignmentError, match='another aspect ratio'):
        labeled_points(depth[:, :200], labels, camera, COLORS)
    with pytest.raises(AlignmentError, match='no usable camera matrix'):
        Intrinsics.from_k([0.0] * 9, 320, 240)


def test_depth_is_paired_within_the_tolerance_and_refused_outside():
    depth = DepthInput()
    depth.add(1_000_000_000, 'a')
    depth.add(1_100_000_000, 'b')
    assert depth.match(1_030_000_000, 0.05) == 'a'
    assert depth.match(1_090_000_000, 0.05) == 'b'
    started = time.monotonic()
    assert depth.match(1_500_000_000, 0.05) is None  # newest is older: waits for it, then no
    assert 0.04 < time.monotonic() - started < 1.0
    assert depth.match(500_000_000, 0.05) is None    # newer frames already there: no wait
    assert (depth.matched, depth.unmatched) == (2, 2)


def test_a_depth_frame_still_in_flight_is_waited_for():
    depth = DepthInput()
    threading.Timer(0.05, depth.add, args=(2_000_000_000, 'late')).start()
    assert depth.match(2_000_000_000, 0.5) == 'late'
    assert depth.report(1.0)['camera_info'] == 'missing'
