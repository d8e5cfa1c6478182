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
The deeplab node end to end: real rclpy, real DDS between processes, real model.

The node runs in a child process (as users run it); this process plays the
camera and the consumers.
"""

import json

from conftest import BIRD, REPO, RosProcess, wait_for
import cv2
from deeplab_ros.engine.datasets import pascal_colormap
from deeplab_ros.engine.model_loading import load_model
from deeplab_ros.engine.segmenter import Segmenter
from deeplab_ros.ros.dds_profile import release_variable
from deeplab_ros.ros.image_encoding import image_to_array
from node_harness import Camera, clean_exit, Harness, harnessed, running_node, start_node
import numpy as np
import pytest
from rclpy.qos import ReliabilityPolicy

pytestmark = pytest.mark.ros


def as_array(msg, channels):
    shape = (msg.height, msg.width, channels) if channels > 1 else (msg.height, msg.width)
    return np.frombuffer(msg.data, dtype=np.uint8).reshape(shape)


@pytest.fixture(scope='module')
def engine(pascal_model):
    return Segmenter(load_model(pascal_model))


@pytest.fixture(scope='module')
def deeplab(pascal_model):
    """One node for the content tests: PASCAL model, class_mask for birds."""
    with clean_exit(start_node(pascal_model, 'mask_classes:=[bird]',
                               'overlay_alpha:=0.6')) as process:
        yield process


@pytest.fixture(scope='module')
def harness(deeplab):
    running = Harness()
    running.wait_for_subscriber()
    yield running
    running.close()


def yuyv(bgr):
    """Pack a BGR image as YUYV 4:2:2 (what usb_cam publishes as yuv422_yuy2)."""
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    packed = np.empty((bgr.shape[0], bgr.shape[1] * 2), np.uint8)
    packed[:, 0::2] = yuv[..., 0]
    packed[:, 1::4] = yuv[:, 0::2, 1]
    packed[:, 3::4] = yuv[:, 0::2, 2]
    return packed.reshape(bgr.shape[0], bgr.shape[1], 2)


def test_all_outputs_on_a_640x480_bgr8_frame(harness, engine, bird_bgr):
    frame = cv2.resize(bird_bgr, (640, 480))
    msg = harness.frame(frame, 'bgr8', 'camera_optical_frame')
    got = harness.send(msg, wanted=('label_map', 'color_mask', 'overlay', 'class_mask'))
    for name, encoding in (('label_map', 'mono8'), ('color_mask', 'rgb8'),
                           ('overlay', 'rgb8'), ('class_mask', 'mono8')):
        out = got[name]
        assert (out.width, out.height, out.encoding) == (640, 480, encoding), name
        assert out.header.stamp == msg.header.stamp
        assert out.header.frame_id == msg.header.frame_id
    labels = as_array(got['label_map'], 1)
    assert np.array_equal(labels, engine.segment(frame, 'bgr'))
    assert (labels == BIRD).mean() > 0.15
    color = as_array(got['color_mask'], 3)
    assert np.array_equal(color, pascal_colormap()[labels])
    overlay = as_array(got['overlay'], 3)
    rgb = frame[..., ::-1]
    changed = np.any(overlay != rgb, axis=2)
    assert not changed[labels == 0].any()            # background untouched
    assert changed[labels == BIRD].mean() > 0.95       # the bird is tinted
    assert np.array_equal(as_array(got['class_mask'], 1), (labels == BIRD) * 255)


def test_confidence_has_the_label_maps_header_size_and_the_models_scores(harness, engine,
                                                                         bird_bgr):
    frame = cv2.resize(bird_bgr, (640, 480))
    msg = harness.frame(frame, 'bgr8', 'confident_frame')
    got = harness.send(msg, wanted=('label_map', 'confidence'))
    labels, confidence = got['label_map'], got['confidence']
    assert (confidence.width, confidence.height, confidence.encoding) == (640, 480, 'mono8')
    assert confidence.header == labels.header == msg.header
    prepared = engine.prepare(frame, 'bgr')
    _, scores = engine.infer(prepared, confidence=True)
    expected = engine.finish(prepared, scores, 'input')
    assert np.array_equal(as_array(confidence, 1), expected)
    bird = as_array(labels, 1) == BIRD
    assert np.median(as_array(confidence, 1)[bird]) > 200   # sure of the bird inside it


@pytest.mark.parametrize('encoding, size, step_pad', [
    ('rgb8', (513, 513), 0),
    ('rgba8', (320, 240), 0),
    ('bgra8', (640, 480), 0),
    ('mono8', (640, 480), 0),
    ('yuv422_yuy2', (640, 480), 0),
    ('bgr8', (400, 300), 64),   # rows padded: step > width * 3
    ('mono8', (333, 250), 13),
])
def test_encodings_sizes_and_padded_step(harness, engine, bird_bgr, encoding, size, step_pad):
    bgr = cv2.resize(bird_bgr, size)
    array = {
        'rgb8': lambda: bgr[..., ::-1], 'bgr8': lambda: bgr,
        'rgba8': lambda: cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA),
        'bgra8': lambda: cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA),
        'mono8': lambda: cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY),
        'yuv422_yuy2': lambda: yuyv(bgr),
    }[encoding]()
    channels = 1 if array.ndim == 2 else array.shape[2]
    msg = harness.frame(array, encoding, f'{encoding}-{size}-{step_pad}',
                        step=size[0] * channels + step_pad)
    labels = as_array(harness.send(msg)['label_map'], 1)
    assert labels.shape == (size[1], size[0])
    image, order = image_to_array(msg)
    assert np.array_equal(labels, engine.segment(np.ascontiguousarray(image), order))
    if encoding != 'mono8':  # colour is part of what makes it a bird
        assert (labels == BIRD).mean() > 0.15


def test_labels_reach_a_late_joiner(harness):
    labels = harness.latched_labels()
    assert labels is not None
    names = json.loads(labels.data)
    assert names['3'] == 'bird' and names['15'] == 'person' and len(names) == 21


def test_diagnostics_report_rates_latency_and_model(harness, bird_bgr, pascal_model):
    harness.send(harness.frame(bird_bgr, 'bgr8', 'diag'))
    _, _, values = harness.wait_for_status(
        lambda level, message, values: values.get('frames_published', '0') != '0')
    assert values['model'] == str(pascal_model)
    assert values['dataset'] == 'pascal' and values['device'].startswith('CPU')
    assert int(values['frames_received']) >= 1
    for key in ('input_rate_hz', 'output_rate_hz', 'inference_ms_mean', 'latency_ms_p50',
                'frames_dropped', 'bad_frames'):
        assert key in values


# case -> (the warning the user sees, the fields that break a good frame)
BAD_FRAMES = {
    'bayer_rggb8': ("unsupported encoding 'bayer_rggb8'", {'encoding': 'bayer_rggb8'}),
    'truncated': ('truncated data', {'data': bytes(1000)}),
    'zero': ('empty image (0x0)', {'height': 0, 'width': 0, 'step': 0, 'data': b''}),
    'absurd': ('absurd image size', {'height': 100000, 'width': 100000, 'step': 300000}),
    'step': ('step 10 is smaller', {'step': 10}),
}


@pytest.mark.parametrize('case', sorted(BAD_FRAMES))
def test_bad_frame_warns_and_next_good_frame_is_served(harness, deeplab, bird_bgr, case):
    expected, fields = BAD_FRAMES[case]
    bad = harness.frame(bird_bgr[:120, :160], 'bgr8', f'bad-{case}')
    for field, value in fields.items():
        setattr(bad, field, value)
    harness.publisher.publish(bad)
    assert deeplab.wait_for_output(expected, timeout=10), deeplab.output[-2000:]
    assert deeplab.proc.poll() is None
    good = harness.frame(bird_bgr, 'bgr8', f'after-{case}')
    labels = as_array(harness.send(good)['label_map'], 1)
    assert (labels == BIRD).mean() > 0.15
    assert not harness.outputs_for(f'bad-{case}')


def test_runtime_parameters(harness, bird_bgr):
    ok = harness.set_parameters(overlay_alpha=1.0, rate=20.0)
    assert all(r.successful for r in ok)
    got = harness.send(harness.frame(bird_bgr, 'bgr8', 'alpha-1'),
                       wanted=('label_map', 'overlay', 'color_mask'))
    labels = as_array(got['label_map'], 1)
    bird = labels == BIRD
    assert np.array_equal(as_array(got['overlay'], 3)[bird],
                          as_array(got['color_mask'], 3)[bird])

    rejected = {
        'overlay_alpha': (2.0, 'overlay_alpha'),
        'output_resolution': ('huge', 'output_resolution must be one of input, model'),
        'mask_classes': (['unicorn'], "unknown class 'unicorn'"),
        'model_path': ('/tmp/other.tflite', 'applied at configure, so the node must be '
                                            'unconfigured'),
        'input_size': (8, 'input_size must be 0 or at least 16'),
    }
    for name, (value, reason) in rejected.items():
        result = harness.set_parameters(**{name: value})[0]
        assert not result.successful, name
        assert reason.lower() in result.reason.lower(), (name, result.reason)
    # A rejected batch changes nothing (never half-applied).
    batch = harness.set_parameters(atomic=True, overlay_alpha=0.2, output_resolution='huge')
    assert not batch[0].successful and 'output_resolution' in batch[0].reason
    got = harness.send(harness.frame(bird_bgr, 'bgr8', 'alpha-still-1'),
                       wanted=('label_map', 'overlay', 'color_mask'))
    bird = as_array(got['label_map'], 1) == BIRD
    assert np.array_equal(as_array(got['overlay'], 3)[bird],
                          as_array(got['color_mask'], 3)[bird])
    assert all(r.successful for r in harness.set_parameters(
        overlay_alpha=0.6, rate=0.0, output_resolution='model'))
    labels = as_array(harness.send(harness.frame(cv2.resize(bird_bgr, (640, 480)), 'bgr8',
                                                 'model-res'))['label_map'], 1)
    assert labels.shape == (385, 513)
    assert all(r.successful for r in harness.set_parameters(output_resolution='input'))


def test_class_lists_take_names_ids_and_clearing_and_depth_ranges_stay_sane(harness,
                                                                            bird_bgr):
    """Hardening III, 9-11 and 19: ids as numbers, `[]`, VOC spellings, min over max."""
    def class_mask(frame_id):
        got = harness.send(harness.frame(bird_bgr, 'bgr8', frame_id),
                           wanted=('label_map', 'class_mask'))
        return as_array(got['class_mask'], 1), as_array(got['label_map'], 1)
    try:
        assert harness.set_parameters(mask_classes=[BIRD])[0].successful   # an integer array
        mask, labels = class_mask('ids')
        assert np.array_equal(mask, (labels == BIRD) * 255)
        assert harness.set_parameters(mask_classes=['tvmonitor', 'bird'])[0].successful
        for value, reason in (([True], 'must be a list of names or numbers'),
                              (['\u00b2'], "unknown class '\u00b2'"),
                              ([99], "unknown class '99'")):
            result = harness.set_parameters(mask_classes=value)[0]
            assert not result.successful and reason in result.reason, result.reason
        assert harness.set_parameters(mask_classes=[])[0].successful      # cleared
        before = len(harness.received['class_mask'])
        harness.send(harness.frame(bird_bgr, 'bgr8', 'cleared'))
        assert len(harness.received['class_mask']) == before               # no longer sent
        for values in ({'min_depth': 20.0}, {'max_depth': 0.05},
                       {'min_depth': 5.0, 'max_depth': 1.0}):
            result = harness.set_parameters(atomic=True, **values)[0]
            assert not result.successful and 'must not be greater than max_depth' in (
                result.reason), (values, result.reason)
        assert harness.set_parameters(atomic=True, min_depth=1.0, max_depth=5.0)[0].successful
    finally:
        assert all(r.successful for r in harness.set_parameters(
            mask_classes=['bird'], min_depth=0.1, max_depth=10.0))


def test_rate_limit_and_newest_frame_only(pascal_model, bird_bgr):
    with running_node(pascal_model, 'rate:=2.0', name='limited') as (_, harness):
        harness.wait_for_subscriber()
        harness.send(harness.frame(bird_bgr, 'bgr8', 'warmup'))
        start = len(harness.received['label_map'])
        frame = cv2.resize(bird_bgr, (320, 240))
        with Camera(harness, frame):                            # 10 Hz, five times the rate
            assert harness.wait_for_outputs(9, timeout=60) >= 9
        served = [m.header.stamp for m in harness.received['label_map'][start:]
                  if m.header.frame_id.startswith('f')][:9]
        # Each output is of the newest frame when the rate allowed one (at most a camera
        # period old), so the frames' own stamps show the 2 Hz, whatever the delivery.
        gaps = np.diff([stamp.sec + stamp.nanosec * 1e-9 for stamp in served])
        assert 0.45 <= gaps.mean() <= 0.8 and gaps.min() > 0.25, gaps
        # A burst: only the newest is processed, the older ones are dropped.
        for i in range(5):
            harness.publisher.publish(harness.frame(frame, 'bgr8', f'burst-{i}'))
        assert wait_for(lambda: harness.outputs_for('burst-4'), 20)
        processed = [i for i in range(5) if harness.outputs_for(f'burst-{i}')]
        assert 4 in processed and len(processed) <= 2, processed


@pytest.mark.parametrize('size', [(640, 480), (1280, 720)])
def test_large_frames_from_a_reliable_camera_on_the_stock_transport(
        pascal_model, bird_bgr, size):
    with running_node(pascal_model, name='reliable_cam') as (node, harness):
        harness.wait_for_subscriber()
        frame = cv2.resize(bird_bgr, size)
        labels = as_array(harness.send(harness.frame(frame, 'rgb8', 'large'))['label_map'], 1)
        assert labels.shape == (size[1], size[0])
        assert 'with reliable QoS' in node.output


CAMERA = """
from deeplab_ros.ros.image_encoding import array_to_image
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
import sys, cv2, rclpy
rclpy.init()
node = rclpy.create_node('best_effort_camera')
pub = node.create_publisher(Image, sys.argv[1], qos_profile_sensor_data)
frame = cv2.resize(cv2.imread(sys.argv[2]), (int(sys.argv[3]), int(sys.argv[4])))
def tick():
    msg = array_to_image(frame, 'bgr8')
    msg.header.frame_id = 'be_camera'
    msg.header.stamp = node.get_clock().now().to_msg()
    pub.publish(msg)
node.create_timer(0.2, tick)
try:
    rclpy.spin(node)
except KeyboardInterrupt:
    pass
node.destroy_node()
rclpy.try_shutdown()
"""


@pytest.mark.parametrize('size', [(640, 480), (1280, 720)])
def test_large_frames_from_a_best_effort_camera_with_the_shipped_profile(
        pascal_model, bird_bgr, data_dir, size, monkeypatch):
    # Both processes must use the profile (the camera's shared-memory segment
    # carries the frame); this test process keeps the stock transport.
    monkeypatch.setenv(release_variable(), str(REPO / 'config' / 'fastdds_large_images.xml'))
    node = start_node(pascal_model, name='be_cam', image='/be_cam/camera')
    camera = RosProcess(['-c', CAMERA, '/be_cam/camera',
                         str(data_dir / 'images' / 'bird_segmentation.bmp'), *map(str, size)])
    monkeypatch.delenv(release_variable())
    with harnessed(node, 'be_cam', image='/be_cam/unused') as harness:
        try:
            assert wait_for(lambda: harness.outputs_for('be_camera'), 30), node.output
        finally:
            camera.stop()
        labels = as_array(harness.outputs_for('be_camera')['label_map'], 1)
        assert labels.shape == (size[1], size[0]) and (labels == BIRD).mean() > 0.15
        assert 'with best_effort QoS' in node.output


def test_best_effort_camera_on_the_stock_transport(pascal_model, bird_bgr):
    """The node matches a best-effort camera, serves small frames, and explains large ones."""
    with running_node(pascal_model, name='stock_be',
                      reliability=ReliabilityPolicy.BEST_EFFORT) as (node, harness):
        harness.wait_for_subscriber()  # counts only QoS-compatible subscriptions
        assert node.wait_for_output('with best_effort QoS', timeout=10)
        small = cv2.resize(bird_bgr, (320, 240))
        labels = as_array(harness.send(harness.frame(small, 'bgr8', 'small'))['label_map'], 1)
        assert labels.shape == (240, 320)


@pytest.mark.parametrize('params', [(), ('cloud:=true',)])  # the cloud once hid the hint
def test_silent_best_effort_camera_gets_a_hint(pascal_model, params):
    with running_node(pascal_model, *params, name='silent',
                      reliability=ReliabilityPolicy.BEST_EFFORT) as (node, harness):
        harness.wait_for_subscriber()
        assert node.wait_for_output('fastdds_large_images.xml', timeout=15), node.output


def test_compressed_input(pascal_model, bird_bgr):
    from sensor_msgs.msg import CompressedImage
    with running_node(pascal_model, 'input_transport:=compressed', name='jpeg',
                      compressed=True) as (node, harness):
        harness.wait_for_subscriber()
        msg = CompressedImage(format='jpeg',
                              data=cv2.imencode('.jpg', bird_bgr, [cv2.IMWRITE_JPEG_QUALITY,
                                                                   95])[1].tobytes())
        msg.header.frame_id = 'jpeg-frame'
        labels = as_array(harness.send(msg)['label_map'], 1)
        assert labels.shape == (513, 513) and (labels == BIRD).mean() > 0.15
        assert 'subscribed to /jpeg/camera/compressed' in node.output


@pytest.mark.parametrize('content, expected', [
    (None, 'neither an existing file'),
    (b'', 'is empty (0 bytes)'),
    (b'\0\0\0\0TFL3' + b'\x01' * 100, 'is not a valid TFLite model'),
])
def test_bad_model_exits_with_one_clear_line(ros_process, tmp_path, content, expected):
    model = tmp_path / 'model.tflite'
    if content is not None:
        model.write_bytes(content)
    process = ros_process(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-p',
                           f'model_path:={model}'])
    process.proc.wait(timeout=60)
    code, output = process.stop()
    assert code == 1, output
    assert 'cannot start:' in output and str(model) in output and expected in output
    assert 'Traceback' not in output


def test_the_shipped_parameters_file_starts_the_node(pascal_model):
    """`[]` in a parameters file sets nothing: the empty lists must still read as empty."""
    with clean_exit(start_node(pascal_model, name='from_yaml', extra=[
            '--params-file', str(REPO / 'config' / 'deeplab.yaml'),
            '-p', f'model_path:={pascal_model}'])) as node:
        assert node.wait_for_output('active: segmenting', timeout=30), node.output
