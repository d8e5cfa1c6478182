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

import os
import socket
import subprocess
import sys
import tarfile
import threading
import zipfile

import cv2
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


@pytest.fixture(scope='module')
def padded_scores_graph(tmp_path_factory):
    """
    Build a zoo-like frozen graph: pad, small scores, align-corners resize, ArgMax, crop.

    Its scores are a quarter of the padded size (the zoo's are an eighth or a
    sixteenth): the blue, green and red of every fourth pixel, over 32.
    """
    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, 'ImageTensor')])
    def graph(image):
        size = tf.shape(image)[1:3]
        padded = tf.pad(image, [[0, 0], [0, 8], [0, 8], [0, 0]], constant_values=128)
        scores = zoo_scores(padded)
        ids = tf.argmax(tf.compat.v1.image.resize_bilinear(
            scores, tf.shape(padded)[1:3], align_corners=True), axis=-1)
        return tf.identity(tf.slice(ids, [0, 0, 0], [1, size[0], size[1]]),
                           name='SemanticPredictions')

    path = tmp_path_factory.mktemp('scores') / 'frozen_inference_graph.pb'
    path.write_bytes(graph.get_concrete_function().graph.as_graph_def().SerializeToString())
    return path


def zoo_scores(padded):
    return tf.cast(padded[:, ::4, ::4, ::-1], tf.float32) / 32.0


@pytest.fixture
def image():
    return np.random.default_rng(7).integers(0, 256, (24, 40, 3), dtype=np.uint8)


def expected(image):
    return image.argmax(axis=-1).astype(np.uint8)


def test_frozen_graph(frozen_graph, image):
    model = load_model(frozen_graph, device='cpu')
    assert model.file_format == 'frozen_graph' and model.fixed_size is None
    assert model.device == 'CPU:0'
    assert not model.has_confidence
    assert model.why_no_confidence == ('the model outputs class ids only (SemanticPredictions:0 '
                                       'comes from an ArgMax over integers, not class scores)')
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
    assert model.file_format == 'frozen_graph' and model.dataset == 'cityscapes'
    assert list((tmp_path / 'cache' / 'extracted').iterdir())
    assert np.array_equal(Segmenter(model, 40).segment(image), expected(image))
    # A second load reuses the extracted graph.
    assert load_model(zoo_tarball, cache=tmp_path / 'cache').file_format == 'frozen_graph'


def test_saved_model(saved_model, image):
    model = load_model(saved_model)
    assert model.file_format == 'saved_model'
    assert np.array_equal(Segmenter(model, 40).segment(image), expected(image))
    assert not model.has_confidence and "output 'SemanticPredictions'" in model.why_no_confidence
    segmenter = Segmenter(model, 40)
    labels, confidence = segmenter.infer(segmenter.prepare(image), confidence=True)
    assert confidence is None and np.array_equal(labels, expected(image))


def softmax_max(scores):
    """round(255 * the largest softmax probability) over the last axis, in float64."""
    scores = np.asarray(scores, np.float64)
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.rint(255 / exp.sum(axis=-1))


def test_a_zoo_like_graph_gives_the_confidence_of_its_small_scores(padded_scores_graph):
    """The label map exact, the confidence within a level or two of the exact softmax."""
    model = load_model(padded_scores_graph)
    assert model.has_confidence and model.why_no_confidence is None
    # A smooth picture: a few large regions, so most pixels are far from a boundary.
    y, x = np.mgrid[0:60, 0:90]
    image = np.dstack([x * 2.8, y * 4.2, 255 - x * 2.8]).astype(np.uint8)
    labels, confidence = model.predict_with_confidence(image[None])
    assert np.array_equal(labels, model.predict(image[None]))
    assert labels.shape == confidence.shape == (60, 90) and confidence.dtype == np.uint8
    # What the graph computes for the labels, and the confidence from the small scores
    # resized as the graph resizes them (the resize in float, exactly).
    scores = zoo_scores(tf.pad(image[None], [[0, 0], [0, 8], [0, 8], [0, 0]],
                               constant_values=128))
    logits = tf.compat.v1.image.resize_bilinear(scores, (68, 98), align_corners=True)
    assert np.array_equal(labels, logits[0, :60, :90].numpy().argmax(axis=-1))
    small = softmax_max(scores[0].numpy())[None, ..., None]
    wanted = tf.compat.v1.image.resize_bilinear(small, (68, 98), align_corners=True)
    error = np.abs(wanted[0, :60, :90, 0].numpy() - confidence)
    # OpenCV 4.5 (Humble) warps in 1/32-pixel steps: up to 2.2 levels off; newer ones 2.
    assert error.max() <= 2.5 and error.mean() < 0.5
    # Through the segmenter at another size: cropped and scaled as the labels.
    segmenter = Segmenter(model, input_size=45)
    prepared = segmenter.prepare(image)
    labels, confidence = segmenter.infer(prepared, confidence=True)
    assert confidence.shape == labels.shape == (30, 45)
    assert segmenter.finish(prepared, confidence).shape == (60, 90)


@pytest.fixture(scope='module')
def scores_saved_model(tmp_path_factory):
    module = tf.Module()
    module.serve = tf.function(
        lambda image: {'logits': tf.cast(image, tf.float32) / 32.0},
        input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, 'image')])
    path = tmp_path_factory.mktemp('saved_scores') / 'model'
    tf.saved_model.save(module, str(path), signatures={'serving_default': module.serve})
    return path


def test_a_saved_model_of_scores_gives_their_softmax(scores_saved_model, image):
    model = load_model(scores_saved_model, output_tensor='logits')
    assert model.has_confidence
    labels, confidence = model.predict_with_confidence(image[None])
    assert np.array_equal(labels, expected(image))
    assert np.abs(confidence - softmax_max(image / 32.0)).max() <= 1


def test_float_tflite_with_scores_output(float_tflite):
    model = load_model(float_tflite, num_threads=1)
    assert model.file_format == 'tflite' and model.fixed_size == (32, 48)
    image = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    assert np.array_equal(Segmenter(model).segment(image), expected(image))
    assert model.has_confidence
    labels, confidence = model.predict_with_confidence(image[None])
    scores = (image * (2.0 / 255.0) - 1.0) * 2.0 + 0.5  # the model's [-1, 1] input, then its op
    assert np.array_equal(labels, expected(image))
    assert np.abs(confidence - softmax_max(scores)).max() <= 1


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
    from node_harness import running_node
    with running_node(zoo_tarball, 'input_size:=40', name='tarball') as (node, harness):
        harness.wait_for_subscriber()
        got = harness.send(harness.frame(image, 'rgb8', 'tiny'), wanted=('label_map', 'overlay'))
        labels = np.frombuffer(got['label_map'].data, np.uint8).reshape(24, 40)
        assert np.array_equal(labels, expected(image))
        assert 'frozen_graph' in node.output and 'dataset cityscapes' in node.output


@pytest.mark.parametrize('name, content, what', [
    ('photo.bmp', None, 'a BMP image'),
    ('photo.png', None, 'a PNG image'),
    ('notes.txt', 'labels: bird, dog\nfür später\n'.encode(), 'a text file'),
    ('model.zip', None, 'a zip archive'),
])
def test_a_file_that_is_not_a_model_is_named_for_what_it_is(tmp_path, name, content, what):
    """Issue 26 item 21: said "TensorFlow is not installed" without TensorFlow."""
    path = tmp_path / name
    if name.endswith(('.bmp', '.png')):
        cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    elif name.endswith('.zip'):
        with zipfile.ZipFile(path, 'w') as archive:
            archive.writestr('saved_model.pb', b'x')
    else:
        path.write_bytes(content)
    message = (f'{name} is {what}, not a model: use a .tflite, frozen .pb, SavedModel folder '
               'or zoo .tar.gz')
    with pytest.raises(ModelLoadError) as raised:
        load_model(path)
    assert str(raised.value) == message
    # The same where TensorFlow is not installed, as on a robot with LiteRT only.
    script = ('import sys; sys.modules["tensorflow"] = None\n'
              'from deeplab_ros.engine import model_loading as loading\n'
              'try: loading.load_model(sys.argv[1])\n'
              'except loading.ModelLoadError as err: print(err)\n')
    out = subprocess.run([sys.executable, '-c', script, str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == message, out.stderr


def test_an_unknown_binary_is_not_taken_for_a_graph(tmp_path):
    path = tmp_path / 'weights.bin'
    path.write_bytes(bytes(range(200, 256)) * 4)
    with pytest.raises(ModelLoadError, match=r'weights.bin is neither a TFLite model \(TFL3 at '
                                             r'byte 4\) nor a TensorFlow graph'):
        load_model(path)


def refused_at_once(path, load=load_model):
    """Call ``load(path)`` in a thread; return its error (the test fails if it hangs)."""
    result = []

    def run():
        try:
            load(path)
        except ModelLoadError as err:
            result.append(str(err))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), f'{load.__name__}({path}) hangs'
    return result[0]


def test_devices_fifos_sockets_and_proc_files_are_refused_before_any_read(tmp_path):
    """Issue 26 item 24: nothing a model path names can hold a load (or a configure)."""
    fifo = tmp_path / 'model.tflite'
    os.mkfifo(fifo)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / 'model.sock'))
        for path in ('/dev/zero', '/dev/urandom', fifo, tmp_path / 'model.sock'):
            assert refused_at_once(path) == (f'{path} is not a regular file (a device, FIFO or '
                                             'socket); give a model file or folder')
    # /proc files say 0 bytes whatever they hold, so they are refused unread.
    assert 'is empty (0 bytes)' in refused_at_once('/proc/self/status')


def test_a_fifo_put_in_place_after_the_check_is_refused_without_blocking(tmp_path):
    """The backends read through read_model_file: a plain open() of a FIFO waits for a writer."""
    from deeplab_ros.engine.model_source import read_model_file
    fifo = tmp_path / 'swapped.pb'
    os.mkfifo(fifo)
    assert refused_at_once(fifo, read_model_file) == (
        f'{fifo} is not a regular file (a device, FIFO or socket); give a model file or folder')
