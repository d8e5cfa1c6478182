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
What broke in review, each a regression test: the message a user sees, the next input served.

The node runs in its own process over real DDS; the odd models are built here
with TensorFlow.
"""

import time

from conftest import png_declaring
import cv2
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.engine.segmenter import Segmenter
from node_harness import Harness, start_node
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage
from test_lifecycle import Camera, outputs_in

pytestmark = pytest.mark.ros

BIRD = 3


@pytest.fixture(scope='module')
def bird_bgr(data_dir):
    return cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))


def test_rate_changes_apply_at_once_and_absurd_rates_are_refused(pascal_model, bird_bgr):
    node = start_node(pascal_model, name='paced', image='/paced/camera')
    harness = Harness('paced', image='/paced/camera')
    harness.wait_for_subscriber()
    camera = Camera(harness, cv2.resize(bird_bgr, (320, 240)))
    try:
        assert harness.wait_for_outputs(3) >= 3
        refused = harness.set_parameters(rate=1e-12)[0]
        assert not refused.successful
        assert refused.reason == 'rate must be 0 (every frame) or at least 0.01 Hz, got 1e-12'
        assert harness.set_parameters(rate=0.01)[0].successful  # one frame every 100 s
        time.sleep(0.5)
        assert outputs_in(harness, 2.0) == 0
        assert harness.set_parameters(rate=10.0)[0].successful
        assert harness.wait_for_outputs(3, timeout=10) >= 3  # the 100 s wait was cut short
        assert harness.status()[0] == 0
    finally:
        camera.stop()
        harness.close()
        code, output = node.stop()
    assert code == 0 and 'Traceback' not in output and 'OverflowError' not in output, output


def test_a_compressed_image_declaring_a_huge_size_is_refused_before_decoding(
        pascal_model, bird_bgr):
    node = start_node(pascal_model, 'input_transport:=compressed', name='bomb',
                      image='/bomb/camera')
    harness = Harness('bomb', image='/bomb/camera', compressed=True)
    try:
        harness.wait_for_subscriber()
        bomb = CompressedImage(format='png', data=png_declaring(30000, 30000))
        bomb.header.frame_id = 'bomb'
        harness.publisher.publish(bomb)
        assert node.wait_for_output(
            'absurd compressed image size 30000x30000 (over 67108864 pixels)', timeout=10), \
            node.output
        good = CompressedImage(format='jpeg',
                               data=cv2.imencode('.jpg', bird_bgr)[1].tobytes())
        good.header.frame_id = 'good-after-bomb'
        labels = harness.send(good)['label_map']
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
        assert not harness.outputs_for('bomb')
    finally:
        harness.close()
        node.stop()


def test_each_kind_of_bad_frame_is_logged_although_they_come_together(pascal_model, bird_bgr):
    node = start_node(pascal_model, name='kinds', image='/kinds/camera')
    harness = Harness('kinds', image='/kinds/camera')
    try:
        harness.wait_for_subscriber()
        for encoding in ('32FC1', '16UC1', 'bayer_rggb8', '32FC1'):
            bad = harness.frame(bird_bgr[:64, :64], 'bgr8', f'bad-{encoding}')
            bad.encoding = encoding
            harness.publisher.publish(bad)
            time.sleep(0.1)
        for encoding in ('32FC1', '16UC1', 'bayer_rggb8'):
            assert node.wait_for_output(f"unsupported encoding '{encoding}'", timeout=10), \
                node.output
        assert node.output.count("unsupported encoding '32FC1'") == 1  # throttled per kind
        labels = harness.send(harness.frame(bird_bgr, 'bgr8', 'good'))['label_map']
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
    finally:
        harness.close()
        node.stop()


# Models that are not segmentation models ---------------------------------------------

def tflite(tmp_path, name, input_shape, function):
    import tensorflow as tf
    fn = tf.function(function, input_signature=[tf.TensorSpec(input_shape, tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [fn.get_concrete_function()], fn)
    path = tmp_path / f'{name}.tflite'
    path.write_bytes(converter.convert())
    return path


@pytest.fixture(scope='module')
def odd_models(tmp_path_factory):
    import tensorflow as tf
    folder = tmp_path_factory.mktemp('odd')
    return {
        'classifier': tflite(folder, 'classifier', [1, 64, 64, 3],
                             lambda x: tf.reduce_mean(x, axis=[1, 2])
                             @ tf.ones([3, 10])),
        'boxes': tflite(folder, 'boxes', [1, 64, 64, 3],
                        lambda x: tf.reshape(tf.reduce_mean(x, axis=[1, 2]) @ tf.ones([3, 40]),
                                             [1, 10, 4])),
        'scalar': tflite(folder, 'scalar', [1, 64, 64, 3], lambda x: tf.reduce_sum(x)),
        'two_channels': tflite(folder, 'two_channels', [1, 64, 64, 2], lambda x: x),
        'gray': tflite(folder, 'gray', [1, 32, 32, 1],
                       lambda x: tf.concat([x, 0.5 - x], axis=-1)),  # scores: bright, dark
    }


@pytest.mark.parametrize('name, message', [
    ('classifier', 'the model output has shape [1, 10]; a segmentation model gives class ids '
                   '[1, H, W] or class scores [1, H, W, C] with H and W at least 16'),
    ('boxes', 'the model output has shape [1, 10, 4]; a segmentation model'),
    ('scalar', 'the model output has shape []; a segmentation model'),
    ('two_channels', 'has shape [1, 64, 64, 2]; expected an image batch [1, H, W, 3] (RGB) '
                     'or [1, H, W, 1] (gray)'),
])
def test_a_model_that_is_not_a_segmentation_model_is_refused_at_load(odd_models, name,
                                                                     message):
    with pytest.raises(ModelLoadError) as error:
        load_model(odd_models[name])
    assert message in str(error.value) and 'np.' not in str(error.value)


def test_a_gray_input_model_gets_gray_frames(odd_models):
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, 16:] = 255
    labels = Segmenter(load_model(odd_models['gray'])).segment(image)
    assert (labels[:, :16] == 1).all() and (labels[:, 16:] == 0).all()


def test_the_node_refuses_a_classifier_with_one_line(ros_process, odd_models):
    node = ros_process(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-p',
                        f'model_path:={odd_models["classifier"]}'])
    node.proc.wait(timeout=60)
    code, output = node.stop()
    assert code == 1 and 'Traceback' not in output
    fatal = [line for line in output.splitlines() if 'FATAL' in line]
    assert len(fatal) == 1 and '[deeplab]: cannot start: ' in fatal[0]
    assert 'output has shape [1, 10]' in fatal[0]
