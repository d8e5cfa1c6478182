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
Every model format through load_model, with small real TF models built here.

The tiny models compute "the brightest channel" per pixel, so the expected
labels are known exactly: ``argmax`` over R, G, B.
"""

import tarfile

from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.engine.segmenter import Segmenter
import numpy as np
import pytest

tf = pytest.importorskip('tensorflow')


def brightest_channel(image):
    return tf.argmax(tf.cast(image, tf.int32), axis=-1)


@pytest.fixture(scope='module')
def frozen_graph(tmp_path_factory):
    """Build a frozen GraphDef with the model zoo's tensor names."""
    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, 'ImageTensor')])
    def graph(image):
        return tf.identity(brightest_channel(image), name='SemanticPredictions')

    path = tmp_path_factory.mktemp('graph') / 'frozen_inference_graph.pb'
    path.write_bytes(graph.get_concrete_function().graph.as_graph_def().SerializeToString())
    return path


@pytest.fixture(scope='module')
def zoo_tarball(frozen_graph, tmp_path_factory):
    path = tmp_path_factory.mktemp('zoo') / 'deeplabv3_tiny_cityscapes_2026.tar.gz'
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(frozen_graph, arcname='deeplabv3_tiny_2026/frozen_inference_graph.pb')
    return path


@pytest.fixture(scope='module')
def saved_model(tmp_path_factory):
    module = tf.Module()
    module.serve = tf.function(
        lambda image: {'SemanticPredictions': brightest_channel(image)},
        input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, 'image')])
    path = tmp_path_factory.mktemp('saved') / 'model'
    tf.saved_model.save(module, str(path), signatures={'serving_default': module.serve})
    return path


@pytest.fixture(scope='module')
def float_tflite(tmp_path_factory):
    """Build a float .tflite that outputs per-class scores (we do the argmax)."""
    @tf.function(input_signature=[tf.TensorSpec([1, 32, 48, 3], tf.float32)])
    def scores(image):
        return image * 2.0 + 0.5

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [scores.get_concrete_function()], scores)
    path = tmp_path_factory.mktemp('tflite') / 'scores.tflite'
    path.write_bytes(converter.convert())
    return path


@pytest.fixture
def image():
    return np.random.default_rng(7).integers(0, 256, (24, 40, 3), dtype=np.uint8)


def expected(image):
    return image.argmax(axis=-1).astype(np.uint8)


def test_frozen_graph(frozen_graph, image):
    model = load_model(frozen_graph, device='cpu')
    assert model.kind == 'frozen_graph' and model.fixed_size is None
    assert model.device == 'CPU:0'
    # input_size = the longest side, so no resize and exact labels are expected.
    labels = Segmenter(model, input_size=40).segment(image)
    assert labels.shape == (24, 40)
    assert np.array_equal(labels, expected(image))


def test_frozen_graph_resizes_longest_side(frozen_graph):
    model = load_model(frozen_graph)
    flat = np.zeros((100, 200, 3), np.uint8)
    flat[..., 2] = 255  # blue everywhere: class 2 at any scale
    segmenter = Segmenter(model, input_size=50)
    assert segmenter.segment(flat, resolution='model').shape == (25, 50)
    assert np.all(segmenter.segment(flat) == 2)


def test_zoo_tarball(zoo_tarball, image, tmp_path):
    model = load_model(zoo_tarball, cache=tmp_path / 'cache')
    assert model.kind == 'frozen_graph' and model.dataset == 'cityscapes'
    assert list((tmp_path / 'cache' / 'extracted').iterdir())
    assert np.array_equal(Segmenter(model, 40).segment(image), expected(image))
    # A second load reuses the extracted graph.
    assert load_model(zoo_tarball, cache=tmp_path / 'cache').kind == 'frozen_graph'


def test_saved_model(saved_model, image):
    model = load_model(saved_model)
    assert model.kind == 'saved_model'
    assert np.array_equal(Segmenter(model, 40).segment(image), expected(image))


def test_float_tflite_with_scores_output(float_tflite):
    model = load_model(float_tflite, num_threads=1)
    assert model.kind == 'tflite' and model.fixed_size == (32, 48)
    image = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    assert np.array_equal(Segmenter(model).segment(image), expected(image))


def test_wrong_tensor_names_list_candidates(frozen_graph):
    with pytest.raises(ModelLoadError, match=r"input tensor 'input:0' is not in the graph; "
                                             r'candidates: inputs \(placeholders\): '
                                             r"\['ImageTensor:0'\]"):
        load_model(frozen_graph, input_tensor='input:0')
    with pytest.raises(ModelLoadError, match=r"output tensor 'Softmax:0' is not in the "
                                             r"graph; candidates: .*outputs: \['Identity:0'\]"):
        load_model(frozen_graph, output_tensor='Softmax:0')


def test_wrong_tflite_tensor_name(pascal_model):
    with pytest.raises(ModelLoadError, match="input tensor 'ImageTensor' not found; the "
                                             "model's inputs are: MobilenetV2"):
        load_model(pascal_model, input_tensor='ImageTensor')


def test_saved_model_wrong_output_key(saved_model):
    with pytest.raises(ModelLoadError, match=r"output 'logits' not found.*SemanticPredictions"):
        load_model(saved_model, output_tensor='logits')


@pytest.mark.parametrize('name, content, message', [
    ('empty.tflite', b'', r'is empty \(0 bytes\)'),
    ('broken.tflite', b'\0\0\0\0TFL3' + b'\x07' * 200, 'is not a valid TFLite model'),
    ('broken.pb', b'\x07garbage' * 50, 'is not a frozen TensorFlow graph'),
    ('broken.tar.gz', b'not a tarball', 'is not a readable .tar.gz archive'),
])
def test_corrupt_model_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        load_model(path, cache=tmp_path / 'cache')


def test_missing_model_names_the_zoo(tmp_path):
    with pytest.raises(ModelLoadError, match='neither an existing file.*mobilenetv2_coco_voc'):
        load_model(tmp_path / 'nope.tflite')


def test_folder_without_saved_model(tmp_path):
    with pytest.raises(ModelLoadError, match='folder without saved_model.pb'):
        load_model(tmp_path)


def test_unavailable_gpu_is_refused(frozen_graph):
    with pytest.raises(ModelLoadError, match="device 'gpu:7' is not available"):
        load_model(frozen_graph, device='gpu:7')
    with pytest.raises(ModelLoadError, match="unknown device 'tpu'"):
        load_model(frozen_graph, device='tpu')


@pytest.mark.ros
def test_node_serves_a_model_zoo_tarball(zoo_tarball, image):
    """The original recipe's format end to end: tarball -> frozen graph -> ROS topics."""
    from node_harness import Harness, start_node
    node = start_node(zoo_tarball, 'input_size:=40', name='tarball', image='/tarball/camera')
    harness = Harness('tarball', image='/tarball/camera')
    try:
        harness.wait_for_subscriber()
        got = harness.send(harness.frame(image, 'rgb8', 'tiny'), wanted=('label_map', 'overlay'))
        labels = np.frombuffer(got['label_map'].data, np.uint8).reshape(24, 40)
        assert np.array_equal(labels, expected(image))
        assert 'frozen_graph' in node.output and 'dataset cityscapes' in node.output
    finally:
        harness.close()
        code, output = node.stop()
    assert code == 0, output
