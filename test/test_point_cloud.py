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

from deeplab_ros.engine.point_cloud import AlignmentError, CloudBuilder, CloudSizeError, \
    depth_in_metres, FOCAL_RANGE, Intrinsics, labeled_points, MAX_CLOUD_POINTS, packed_rgb, \
    POINT
from deeplab_ros.pipeline.depth_input import DepthInput
from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.extra.numpy import arrays
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


def projected(points, camera):
    """Return where each point projects through ``camera``: its (u, v), not rounded."""
    return (points['x'] * camera.fx / points['z'] + camera.cx,
            points['y'] * camera.fy / points['z'] + camera.cy)


def pixels_of(points, camera):
    u, v = projected(points, camera)
    return np.rint(u).astype(int), np.rint(v).astype(int)


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
    assert points.dtype == POINT and points.dtype.itemsize == 20
    assert points.ndim == 1 and points.flags.c_contiguous


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
    assert len(labeled_points(depth, labels, camera, COLORS, class_ids=[7])) == 0


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


def test_the_camera_matrix_is_scaled_centre_aligned():
    camera = Intrinsics.from_k(K, 320, 240)
    half = camera.scaled_to(160, 120)
    # (c + 0.5) s - 0.5: the centre of pixel u stays on the ray through u's centre.
    assert (half.fx, half.cx, half.fy, half.cy) == (200.0, 80.0, 205.0, 59.875)
    back = half.scaled_to(320, 240)
    assert (back.fx, back.cx, back.fy, back.cy) == (400.0, 160.5, 410.0, 120.25)
    assert camera.scaled_to(320, 240) is camera


@pytest.mark.parametrize('factor', [2, 4])
def test_a_lower_resolution_depths_points_lie_on_their_pixels_rays(factor):
    depth, labels = scene()
    small = np.ascontiguousarray(depth[::factor, ::factor])
    camera = Intrinsics.from_k(K, 320, 240)
    points = labeled_points(small, labels, camera, COLORS, max_depth=10.0)
    assert len(points) == np.count_nonzero((small > 0) & (small <= 10.0))
    # Through the depth's (scaled) camera matrix a point projects onto its depth pixel's
    # centre ...
    u, v = projected(points, camera.scaled_to(320 // factor, 240 // factor))
    i, j = np.rint(u).astype(int), np.rint(v).astype(int)
    np.testing.assert_allclose(u, i, atol=1e-3)
    np.testing.assert_allclose(v, j, atol=1e-3)
    np.testing.assert_array_equal(points['z'], small[j, i])
    # ... and through the label map's onto that centre in label-map pixels, (i + 0.5) s -
    # 0.5, inside the label pixel whose class it carries.
    u, v = projected(points, camera)
    np.testing.assert_allclose(u, (i + 0.5) * factor - 0.5, atol=1e-3)
    np.testing.assert_allclose(v, (j + 0.5) * factor - 0.5, atol=1e-3)
    np.testing.assert_array_equal(points['label'], labels[np.floor(v + 0.5).astype(int),
                                                          np.floor(u + 0.5).astype(int)])


def test_an_organized_cloud_has_a_point_for_every_label_pixel():
    depth, labels = scene()
    labels[100:110, 0:50] = 7
    camera = Intrinsics.from_k(K, 320, 240)
    cloud = labeled_points(depth, labels, camera, COLORS, class_ids=[0, 15], max_depth=10.0,
                           organized=True)
    assert cloud.shape == (240, 320) and cloud.dtype == POINT and cloud.flags.c_contiguous
    # Point (v, u) is pixel (v, u): at index v * width + u of the flat cloud.
    flat = cloud.reshape(-1)
    assert flat[130 * 320 + 150]['z'] == 1.0 and flat[130 * 320 + 150]['label'] == 15
    missing = ~((depth > 0) & (depth <= 10.0)) | (labels == 7)
    for field in 'xyz':
        np.testing.assert_array_equal(np.isnan(cloud[field]), missing)
    np.testing.assert_array_equal(cloud['label'], labels)  # every pixel's class, even NaN
    np.testing.assert_array_equal(cloud['rgb'], packed_rgb(COLORS)[labels])
    v, u = np.nonzero(~missing)
    np.testing.assert_array_equal(cloud['z'][v, u], depth[v, u])
    pu, pv = projected(cloud[v, u], camera)
    np.testing.assert_allclose(pu, u, atol=1e-3)
    np.testing.assert_allclose(pv, v, atol=1e-3)
    # The dense cloud is the organized one without its NaN points, in the same order.
    dense = labeled_points(depth, labels, camera, COLORS, class_ids=[0, 15], max_depth=10.0)
    np.testing.assert_array_equal(dense.view(np.uint8), cloud[~missing].view(np.uint8))


@pytest.mark.parametrize('factor', [2, 4])
def test_an_organized_cloud_samples_lower_resolution_depth_at_each_pixel(factor):
    depth, labels = scene()
    small = np.ascontiguousarray(depth[1::factor, 1::factor])
    camera = Intrinsics.from_k(K, 320, 240)
    cloud = labeled_points(small, labels, camera, COLORS, max_depth=10.0, organized=True)
    assert cloud.shape == (240, 320)
    v, u = np.mgrid[0:240, 0:320]
    nearest = small[(v + 0.5).astype(int) // factor, (u + 0.5).astype(int) // factor]
    valid = (nearest > 0) & (nearest <= 10.0)
    np.testing.assert_array_equal(cloud['z'][valid], nearest[valid])
    assert np.isnan(cloud['z'][~valid]).all()
    pu, pv = projected(cloud[valid], camera)
    np.testing.assert_allclose(pu, u[valid], atol=1e-3)
    np.testing.assert_allclose(pv, v[valid], atol=1e-3)


def test_an_organized_cloud_takes_camera_info_at_another_resolution():
    depth, labels = scene()
    # The same camera described at twice the resolution, centre-aligned.
    twice = [800.0, 0.0, 321.5, 0.0, 820.0, 241.0, 0.0, 0.0, 1.0]
    camera = Intrinsics.from_k(twice, 640, 480)
    cloud = labeled_points(depth, labels, camera, COLORS, max_depth=10.0, organized=True)
    reference = labeled_points(depth, labels, Intrinsics.from_k(K, 320, 240), COLORS,
                               max_depth=10.0, organized=True)
    np.testing.assert_array_equal(cloud.view(np.uint8), reference.view(np.uint8))


def test_an_organized_cloud_with_a_stride_takes_every_nth_label_pixel():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    cloud = labeled_points(depth, labels, camera, COLORS, stride=3, max_depth=10.0,
                           organized=True)
    assert cloud.shape == (80, 107)
    np.testing.assert_array_equal(cloud['label'], labels[::3, ::3])
    valid = ~np.isnan(cloud['z'])
    np.testing.assert_array_equal(cloud['z'][valid], depth[::3, ::3][valid])
    pu, _ = projected(cloud, camera)
    np.testing.assert_allclose(pu[valid], np.mgrid[0:240:3, 0:320:3][1][valid], atol=1e-3)


def test_a_builder_reuses_its_buffers_and_gives_what_a_fresh_one_gives():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    builder = CloudBuilder()
    frames = [{'max_depth': 10.0}, {'class_ids': [15]}, {'max_depth': 10.0, 'organized': True},
              {'organized': True, 'stride': 2}, {'max_depth': 10.0, 'stride': 2},
              {'max_depth': 10.0}]
    clouds = []
    for options in frames:
        cloud = builder.points(depth, labels, camera, COLORS, **options)
        fresh = labeled_points(depth, labels, camera, COLORS, **options)
        assert cloud.shape == fresh.shape
        np.testing.assert_array_equal(cloud.view(np.uint8), fresh.view(np.uint8))
        clouds.append(cloud)
    # While the grid keeps its size, every cloud is built in the same memory.
    assert np.shares_memory(clouds[0], clouds[1]) and np.shares_memory(clouds[0], clouds[2])
    assert np.shares_memory(clouds[3], clouds[4]) and not np.shares_memory(clouds[2], clouds[3])


def test_an_unalignable_depth_is_refused_never_wrong_points():
    depth, labels = scene()
    camera = Intrinsics.from_k(K, 320, 240)
    for organized in (False, True):
        with pytest.raises(AlignmentError, match=r'^depth is 200x240 but .* is 320x240: '
                                                 'another aspect ratio'):
            labeled_points(depth[:, :200], labels, camera, COLORS, organized=organized)
    with pytest.raises(AlignmentError, match=r'^depth is 320x240 but the label map is '
                                             r'200x240: another aspect ratio$'):
        labeled_points(depth, labels[:, :200], camera, COLORS)
    with pytest.raises(AlignmentError, match=r'^the label map is 320x240 but camera_info is '
                                             r'320x100: another aspect ratio, so camera_info '
                                             r"is not the color camera's$"):
        labeled_points(depth, labels, Intrinsics.from_k(K, 320, 100), COLORS, organized=True)


@pytest.mark.parametrize('index, value, name', [
    (2, np.nan, 'cx'), (2, np.inf, 'cx'), (5, -np.inf, 'cy'), (5, np.nan, 'cy'),
    (2, 1e39, 'cx'), (2, -321.0, 'cx'), (5, 481.0, 'cy'),
    (0, 1e-40, 'fx'), (4, 1e-40, 'fy'), (0, np.inf, 'fx'), (0, 1e39, 'fx'), (4, 2e7, 'fy'),
    (0, 0.0, 'fx'), (4, -400.0, 'fy'), (0, 0.5, 'fx'), (4, np.nan, 'fy')])
def test_a_camera_matrix_that_would_make_non_finite_points_is_refused(index, value, name):
    k = list(K)
    k[index] = value
    with pytest.raises(AlignmentError, match=rf'^camera_info has no usable camera matrix: '
                                             rf'k\[{index}\] \({name}\) is '):
        Intrinsics.from_k(k, 320, 240)


def test_the_limits_of_a_camera_matrix_are_accepted():
    low, high = FOCAL_RANGE
    for k in ([low, 0, -320, 0, high, 480, 0, 0, 1], [high, 0, 640, 0, low, -240, 0, 0, 1]):
        camera = Intrinsics.from_k(k, 320, 240)
        depth, labels = scene()
        for organized in (False, True):
            cloud = labeled_points(depth, labels, camera, COLORS, organized=organized)
            assert np.isfinite(cloud['x'][~np.isnan(cloud['z'])]).all()
    with pytest.raises(AlignmentError, match=r'no usable image size \(0x240\)'):
        Intrinsics.from_k(K, 0, 240)


CAMERA = st.tuples(st.floats(*FOCAL_RANGE), st.floats(*FOCAL_RANGE), st.floats(-8, 16),
                   st.floats(-6, 12))  # fx, fy, cx, cy of an 8x6 image, all usable


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CAMERA, st.one_of(st.none(), st.tuples(st.sampled_from([0, 2, 4, 5]), st.floats())),
       st.sampled_from([(6, 8), (3, 4), (12, 16)]),
       arrays(np.float32, (6, 8), elements=st.floats(width=32)),
       st.floats(0, 100), st.one_of(st.just(np.inf), st.floats(0, 3.4e38)), st.booleans())
@pytest.mark.filterwarnings('error')  # no overflow, no invalid operation either
def test_no_camera_matrix_and_depth_make_a_non_finite_point(camera, bad, size, depth,
                                                            min_depth, max_depth, organized):
    """Any K entry may be any float (``bad``), any depth any float32: refused or finite."""
    fx, fy, cx, cy = camera
    k = [fx, 0, cx, 0, fy, cy, 0, 0, 1]
    if bad is not None:
        k[bad[0]] = bad[1]
    labels = np.arange(size[0] * size[1], dtype=np.uint8).reshape(size) % 21
    try:
        camera = Intrinsics.from_k(k, 8, 6)
    except AlignmentError as err:
        assert str(err).startswith('camera_info has no usable camera matrix: k[')
        return
    cloud = labeled_points(depth, labels, camera, COLORS, min_depth=min_depth,
                           max_depth=max_depth, organized=organized)
    xyz = np.stack([cloud['x'], cloud['y'], cloud['z']])
    if organized:
        assert cloud.shape == size
        assert (np.isfinite(xyz).all(axis=0) | np.isnan(xyz).all(axis=0)).all()
        xyz = xyz[:, np.isfinite(xyz).all(axis=0)]
    else:
        assert np.isfinite(xyz).all()
    assert ((xyz[2] >= min_depth) & (xyz[2] <= max_depth) & (xyz[2] > 0)).all()
    assert np.isin(xyz[2], depth).all()


def test_a_cloud_larger_than_the_cap_is_refused_before_it_is_built():
    huge = np.broadcast_to(np.float32(1.0), (2049, 2048))  # one row more: no memory behind it
    labels = np.broadcast_to(np.uint8(0), (2049, 2048))
    camera = Intrinsics.from_k([1000.0, 0, 1023.5, 0, 1000.0, 1024.0, 0, 0, 1], 2048, 2049)
    assert 2048 * 2048 == MAX_CLOUD_POINTS
    for organized in (False, True):
        with pytest.raises(CloudSizeError, match=rf'^a cloud of 2048x2049 points is more than '
                                                 rf'the {MAX_CLOUD_POINTS} one may have'):
            labeled_points(huge, labels, camera, COLORS, organized=organized)
    small = labels[::8, ::8]  # the label map smaller: the dense cloud is the depth's size
    with pytest.raises(CloudSizeError, match='2048x2049 points'):
        labeled_points(huge, small, camera, COLORS)
    assert labeled_points(huge, small, camera, COLORS, organized=True).shape == (257, 256)
    assert len(labeled_points(huge, labels, camera, COLORS, stride=2)) == 1025 * 1024


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


def test_a_depth_wait_ends_at_once_when_the_cloud_stops():
    depth = DepthInput()
    threading.Timer(0.05, depth.interrupt).start()
    started = time.monotonic()
    assert depth.match(2_000_000_000, 0.5, wait=30) is None
    assert time.monotonic() - started < 10


def test_a_depth_frame_still_in_flight_is_waited_for():
    depth = DepthInput()
    threading.Timer(0.05, depth.add, args=(2_000_000_000, 'late')).start()
    assert depth.match(2_000_000_000, 0.5) == 'late'
    assert depth.report(1.0)['camera_info'] == 'missing'
