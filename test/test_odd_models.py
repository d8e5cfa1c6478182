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
Models that are not segmentation models, refused at load by the engine and by the node.

Also a gray-input model, which gets gray frames. The odd models are built here
with TensorFlow; only the node's test needs ROS.
"""

from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.engine.segmenter import Segmenter
import numpy as np
import pytest


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


@pytest.mark.ros
def test_the_node_refuses_a_classifier_with_one_line(ros_process, odd_models):
    node = ros_process(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-p',
                        f'model_path:={odd_models["classifier"]}'])
    node.proc.wait(timeout=60)
    code, output = node.stop()
    assert code == 1 and 'Traceback' not in output
    fatal = [line for line in output.splitlines() if 'FATAL' in line]
    assert len(fatal) == 1 and '[deeplab]: cannot start: ' in fatal[0]
    assert 'output has shape [1, 10]' in fatal[0]
