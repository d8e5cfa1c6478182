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
Step two of loading a model: load a local model file by its format, behind one ``predict()``.

Formats: TF1 frozen graphs (``.pb``, also inside model zoo tarballs), TF2
SavedModel folders, and ``.tflite`` files (LiteRT when installed, else
``tf.lite``). ``load_model`` takes anything a user gives (``model_source``
resolves it first). Every backend's ``predict`` takes a uint8 RGB batch
``[1, h, w, 3]`` and returns the ``[h, w]`` class ids; ``predict_with_confidence``
also returns the confidence of each label (see ``confidence``) when the model
has class scores (``has_confidence``; ``why_no_confidence`` says why not).
A .tflite model's scores before its ArgMax become a second output of its
graph, so reading them costs the interpreter nothing.
"""

import contextlib
import logging
import os
import sys

from deeplab_ros.engine import confidence, tflite_graph
from deeplab_ros.engine.datasets import guess_dataset
from deeplab_ros.engine.model_source import ModelLoadError, read_model_file, resolve
import numpy as np

LOG = logging.getLogger(__name__)

# The names the DeepLab model zoo's frozen graphs use.
ZOO_INPUT_TENSOR = 'ImageTensor:0'
ZOO_OUTPUT_TENSOR = 'SemanticPredictions:0'
# The original DeepLab demo resizes the longest image side to this.
DEFAULT_INPUT_SIZE = 513
# Graph ops between a zoo graph's ArgMax and its output that only crop, resize or retype
# the label map, and the ops between its scores and the ArgMax that only resize them.
LABEL_MAP_OPS = ('Identity', 'Cast', 'Squeeze', 'ExpandDims', 'Slice', 'ResizeNearestNeighbor')
SCORE_RESIZE_OPS = ('Identity', 'ResizeBilinear')


@contextlib.contextmanager
def _quiet_stderr():
    """
    Send file descriptor 2 to /dev/null for the block.

    TensorFlow's C++ start-up (absl and oneDNN notices) writes straight to the
    descriptor before any log level applies, burying the one line a user
    should read. Import errors still surface as Python exceptions.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _import_tf():
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    try:
        if 'tensorflow' not in sys.modules:
            with _quiet_stderr():
                import tensorflow  # noqa: F401
        import tensorflow as tf
    except ModuleNotFoundError as err:
        raise ModelLoadError('TensorFlow is not installed: pip install tensorflow '
                             '(or tensorflow-cpu) to run frozen graphs and SavedModels') from err
    except ImportError as err:  # installed but broken
        raise ModelLoadError(f'TensorFlow is installed but does not load: {err}') from err
    return tf


# A segmentation output smaller than this on a side is not a label map.
MIN_OUTPUT_SIDE = 16


def shape_text(shape):
    """``[1, 513, 513, 3]`` in plain numbers (no numpy reprs in messages)."""
    return '[' + ', '.join(str(int(d)) if d is not None else '?' for d in shape) + ']'


def _labels_from(output):
    """Class ids from a model output: ids ``[1,h,w]`` or scores ``[1,h,w,C]``."""
    shape = np.shape(output)
    if len(shape) not in (3, 4) or shape[0] != 1 or min(shape[1:3]) < MIN_OUTPUT_SIDE:
        raise ModelLoadError(
            f'the model output has shape {shape_text(shape)}; a segmentation model gives '
            f'class ids [1, H, W] or class scores [1, H, W, C] with H and W at least '
            f'{MIN_OUTPUT_SIDE} (is this a classifier or detector?)')
    output = output[0]
    if output.ndim == 3:
        output = output.argmax(axis=-1) if output.shape[-1] > 1 else output[..., 0]
    return output


def _scores_output(shape):
    """Tell whether an output of this (static) shape holds class scores [1, H, W, C]."""
    return len(shape) == 4 and shape[3] != 1


def _full_confidence(output, scale=0.0):
    """Confidence from an output that already is scores [1, H, W, C] (None if class ids)."""
    return confidence.max_probability(output[0], scale) if _scores_output(output.shape) else None


def _ids_only(output):
    return f'the model outputs class ids only ({output} is not an ArgMax over class scores)'


def select_device(device):
    """
    Return the TensorFlow device for 'auto', 'cpu' or 'gpu:N'.

    GPU memory growth is switched on so the node does not claim the whole card.
    """
    tf = _import_tf()
    gpus = tf.config.list_physical_devices('GPU')
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: the setting stays as it was
            pass
    wanted = device.strip().lower()
    if wanted == 'cpu' or (wanted == 'auto' and not gpus):
        return '/CPU:0'
    if wanted == 'auto':
        return '/GPU:0'
    if wanted.startswith('gpu'):
        index = int(wanted[4:] or 0) if wanted[3:4] in (':', '') else -1
        if 0 <= index < len(gpus):
            return f'/GPU:{index}'
        raise ModelLoadError(f"device '{device}' is not available: TensorFlow sees "
                             f'{len(gpus)} GPU(s); use device auto or cpu')
    raise ModelLoadError(f"unknown device '{device}'; use auto, cpu or gpu:N")


class TFLiteModel:
    """A ``.tflite`` model: fixed input size, uint8 or float input."""

    file_format = 'tflite'

    def __init__(self, path, input_tensor=None, output_tensor=None, num_threads=None,
                 device='auto'):
        try:
            from ai_edge_litert.interpreter import Interpreter
            self.runtime = 'LiteRT'
        except ModuleNotFoundError:  # not installed: TensorFlow's tf.lite does the same
            try:
                Interpreter = _import_tf().lite.Interpreter
            except ModelLoadError as err:
                raise ModelLoadError(
                    f'{path}: no runtime for .tflite models is installed: pip install '
                    'ai-edge-litert (LiteRT; needs numpy 1.23.2 or newer), or TensorFlow '
                    f'({err})') from err
            self.runtime = 'tf.lite'
        except ImportError as err:  # installed but broken (or a stop signal during its start)
            raise ModelLoadError(f'LiteRT (ai_edge_litert) is installed but does not load: '
                                 f'{err}') from err
        if device.strip().lower() not in ('auto', 'cpu'):
            LOG.warning('%s: .tflite models run on the CPU here; ignoring device %s',
                        path, device)
        self.device = f'CPU ({self.runtime}, {num_threads or os.cpu_count()} threads)'
        data = read_model_file(path)

        def interpreter(model):
            try:
                loaded = Interpreter(model_content=model,
                                     num_threads=num_threads or os.cpu_count())
                loaded.allocate_tensors()
            except (ValueError, RuntimeError) as err:
                raise ModelLoadError(f'{path} is not a valid TFLite model ({err}); '
                                     'download it again or check the file') from err
            return loaded

        self._interpreter = interpreter(data)
        self._input = self._pick(self._interpreter.get_input_details(), input_tensor, 'input')
        self._output = self._pick(self._interpreter.get_output_details(), output_tensor,
                                  'output')
        self._scores = self._find_scores(data)
        if self._scores is not None:  # rebuilt with the scores as an output of its own
            outputs = [d['index'] for d in self._interpreter.get_output_details()]
            self._interpreter = interpreter(tflite_graph.with_outputs(
                data, [*outputs, self._scores]))
        shape = self._input['shape']
        if len(shape) != 4 or shape[0] != 1 or shape[3] not in (1, 3):
            raise ModelLoadError(f'{path}: input {self._input["name"]} has shape '
                                 f'{shape_text(shape)}; expected an image batch [1, H, W, 3] '
                                 '(RGB) or [1, H, W, 1] (gray)')
        self.fixed_size = (int(shape[1]), int(shape[2]))
        self._gray = shape[3] == 1
        self._dtype = self._input['dtype']

    def _find_scores(self, data):
        """
        Set ``has_confidence``; return the index of the scores before the output's ArgMax.

        None also when the output itself is scores (they are read as the output).
        """
        output = self._output
        self.has_confidence, self.why_no_confidence, self._align = True, None, None
        if _scores_output(output['shape']):
            return None
        producer = {t: op for op in tflite_graph.operators(data) for t in op.outputs}
        op = producer.get(output['index'])
        if op is None or op.code != tflite_graph.ARG_MAX:
            self.has_confidence, self.why_no_confidence = False, _ids_only(output['name'])
            return None
        scores = op.inputs[0]
        # DeepLab resizes its small scores to the label map's size just before the ArgMax.
        while (op := producer.get(scores)) is not None and op.code == tflite_graph.RESIZE_BILINEAR:
            self._align = self._align or confidence.alignment(
                op.options.scalar(tflite_graph.RESIZE_ALIGN_CORNERS, '<?', False),
                op.options.scalar(tflite_graph.RESIZE_HALF_PIXEL_CENTERS, '<?', False))
            scores = op.inputs[0]
        detail = next(d for d in self._interpreter.get_tensor_details() if d['index'] == scores)
        if not np.issubdtype(detail['dtype'], np.floating) and not detail['quantization'][0]:
            self.has_confidence = False
            self.why_no_confidence = (f"the model outputs class ids only ({output['name']} is "
                                      'an ArgMax over integers, not class scores)')
            return None
        self._score_scale = detail['quantization'][0]
        return scores

    @staticmethod
    def _pick(details, name, what):
        if not name:
            return details[0]
        for detail in details:
            if detail['name'] in (name, name.split(':')[0]):
                return detail
        raise ModelLoadError(f"{what} tensor '{name}' not found; the model's {what}s are: "
                             + ', '.join(d['name'] for d in details))

    def predict(self, batch):
        self._invoke(batch)
        # A view of the output buffer, converted to uint8 ids at once: no 2 MB int64 copy.
        # The view must be gone before the next invoke(), so only the new array leaves.
        output = self._interpreter.tensor(self._output['index'])()
        return _labels_from(output).astype(np.uint8)

    def predict_with_confidence(self, batch):
        """Return the class ids and their confidence (None without scores), both [h, w]."""
        labels = self.predict(batch)
        return labels, self._last_confidence(labels.shape)

    def _last_confidence(self, shape):
        """Return the confidence of the last invoke's labels, on their grid ``shape``."""
        if self._scores is not None:
            scores = self._interpreter.get_tensor(self._scores)[0]  # small: a copy is free
            return confidence.resize(confidence.max_probability(scores, self._score_scale),
                                     shape, self._align)
        output = self._interpreter.tensor(self._output['index'])()  # no scores, or the output
        return _full_confidence(output, self._output['quantization'][0])

    def _invoke(self, batch):
        if self._gray:  # ITU-R BT.601 luma, as OpenCV's RGB2GRAY
            batch = (batch @ np.array([0.299, 0.587, 0.114], np.float32) + 0.5).astype(
                np.uint8)[..., None]
        if self._dtype == np.float32:
            batch = batch.astype(np.float32) * (2.0 / 255.0) - 1.0  # DeepLab's [-1, 1]
        elif self._dtype == np.int8:
            batch = (batch.astype(np.int16) - 128).astype(np.int8)
        self._interpreter.set_tensor(self._input['index'], batch)
        self._interpreter.invoke()


def _graph_candidates(graph_def):
    """Describe a graph's likely input (placeholders) and output (unconsumed) tensors."""
    consumed = {inp.lstrip('^').split(':')[0] for node in graph_def.node for inp in node.input}
    inputs = [n.name + ':0' for n in graph_def.node if n.op == 'Placeholder']
    outputs = [n.name + ':0' for n in graph_def.node
               if n.name not in consumed and n.op not in ('Const', 'NoOp', 'Placeholder')]
    return f'inputs (placeholders): {inputs or "none"}; outputs: {outputs[:20] or "none"}'


class FrozenGraphModel:
    """A TF1 frozen GraphDef (``frozen_inference_graph.pb`` from the model zoo)."""

    file_format = 'frozen_graph'

    def __init__(self, path, input_tensor=None, output_tensor=None, num_threads=None,
                 device='auto'):
        tf = self._tf = _import_tf()
        _set_tf_threads(tf, num_threads)
        self._device = select_device(device)
        self.device = self._device.strip('/')
        graph_def = tf.compat.v1.GraphDef()
        data = read_model_file(path)
        try:
            graph_def.ParseFromString(data)
        except Exception as err:  # protobuf raises its own DecodeError type
            raise ModelLoadError(f'{path} is not a frozen TensorFlow graph (GraphDef): {err}; '
                                 'download it again or check the file') from err
        if not graph_def.node:
            raise ModelLoadError(f'{path} holds an empty graph')
        input_tensor = input_tensor or ZOO_INPUT_TENSOR
        output_tensor = output_tensor or ZOO_OUTPUT_TENSOR
        names = {node.name for node in graph_def.node}
        for what, tensor in (('input', input_tensor), ('output', output_tensor)):
            if tensor.split(':')[0] not in names:
                raise ModelLoadError(f"{path}: {what} tensor '{tensor}' is not in the graph; "
                                     f'candidates: {_graph_candidates(graph_def)}. Set '
                                     'input_tensor / output_tensor to the right names.')
        placeholder = next(n for n in graph_def.node if n.name == input_tensor.split(':')[0])
        dims = [d.size for d in placeholder.attr['shape'].shape.dim]
        self.fixed_size = (dims[1], dims[2]) if len(dims) == 4 and min(dims[1:3]) > 0 else None

        def import_graph():
            tf.compat.v1.import_graph_def(graph_def, name='')

        with tf.device(self._device):
            wrapped = tf.compat.v1.wrap_function(import_graph, [])
            graph = wrapped.graph
            image = graph.as_graph_element(_tensor_name(input_tensor))
            output = graph.as_graph_element(_tensor_name(output_tensor))
            self._fn = wrapped.prune(image, output)
            self._fn_confidence = None
            scores = self._find_scores(graph_def, output)
            if scores is not None:
                # One call gives the labels, the scores and the grid the ArgMax saw.
                with graph.as_default():
                    grid = tf.shape(graph.as_graph_element(scores[1]))[1:3]
                self._fn_confidence = wrapped.prune(
                    image, [output, graph.as_graph_element(scores[0]), grid])

    def _find_scores(self, graph_def, output):
        """
        Set ``has_confidence``; return the (small scores, ArgMax input) tensor names, or None.

        None also when the output itself is scores (they are read as the output).
        """
        self.has_confidence, self.why_no_confidence, self._align = True, None, None
        if output.shape.rank is not None and _scores_output(output.shape.as_list()):
            return None
        nodes = {node.name: node for node in graph_def.node}

        def source(node):  # the node making a node's first input
            return nodes.get(node.input[0].lstrip('^').split(':')[0]) if node.input else None

        node = nodes[output.op.name]
        while node is not None and node.op in LABEL_MAP_OPS:
            node = source(node)
        if node is None or node.op != 'ArgMax':
            self.has_confidence, self.why_no_confidence = False, _ids_only(output.name)
            return None
        if not self._tf.as_dtype(node.attr['T'].type).is_floating:
            self.has_confidence = False
            self.why_no_confidence = (f'the model outputs class ids only ({output.name} comes '
                                      'from an ArgMax over integers, not class scores)')
            return None
        grid = scores = node.input[0]
        while (node := source(node)) is not None and node.op in SCORE_RESIZE_OPS:
            if node.op == 'ResizeBilinear':
                self._align = self._align or confidence.alignment(
                    node.attr['align_corners'].b, node.attr['half_pixel_centers'].b)
            scores = node.input[0]
        return _tensor_name(scores), _tensor_name(grid)

    def predict(self, batch):
        with self._tf.device(self._device):
            return _labels_from(self._fn(self._tf.constant(batch)).numpy())

    def predict_with_confidence(self, batch):
        """Return the class ids and their confidence (None without scores), both [h, w]."""
        with self._tf.device(self._device):
            if self._fn_confidence is None:  # no scores, or the output is the scores
                output = self._fn(self._tf.constant(batch)).numpy()
                return _labels_from(output), _full_confidence(output)
            output, scores, grid = self._fn_confidence(self._tf.constant(batch))
        labels = _labels_from(output.numpy())
        small = confidence.max_probability(scores.numpy()[0])
        return labels, confidence.fit(
            confidence.resize(small, tuple(grid.numpy()), self._align), labels.shape)


def _tensor_name(name):
    return name if ':' in name else name + ':0'


def _set_tf_threads(tf, num_threads):
    if num_threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(num_threads)
        except RuntimeError:  # TensorFlow already started: keep its setting
            LOG.info('TensorFlow thread count already fixed; num_threads not applied')


class SavedModelModel:
    """A TF2 SavedModel folder, called through one of its signatures."""

    file_format = 'saved_model'

    def __init__(self, path, input_tensor=None, output_tensor=None, num_threads=None,
                 device='auto', signature='serving_default'):
        tf = self._tf = _import_tf()
        _set_tf_threads(tf, num_threads)
        self._device = select_device(device)
        self.device = self._device.strip('/')
        try:
            with tf.device(self._device):
                loaded = tf.saved_model.load(str(path))
        except Exception as err:  # TF raises many types for a bad folder
            raise ModelLoadError(f'{path} is not a loadable SavedModel: {err}') from err
        self._loaded = loaded  # keeps the signature's variables alive
        if signature not in loaded.signatures:
            raise ModelLoadError(f"{path}: no signature '{signature}'; it has "
                                 f'{list(loaded.signatures)}')
        self._fn = loaded.signatures[signature]
        inputs = self._fn.structured_input_signature[1]
        outputs = self._fn.structured_outputs
        self._input_key = self._pick(inputs, input_tensor, 'input', path)
        self._output_key = self._pick(outputs, output_tensor, 'output', path)
        shape = inputs[self._input_key].shape
        self.fixed_size = ((shape[1], shape[2]) if shape.rank == 4 and shape[1] and shape[2]
                           else None)
        shape = outputs[self._output_key].shape
        self.has_confidence = shape.rank is not None and _scores_output(shape.as_list())
        self.why_no_confidence = None if self.has_confidence else (
            f"the model outputs class ids only (its signature's output '{self._output_key}'; "
            'an output of class scores [1, H, W, C] as output_tensor would give them)')

    @staticmethod
    def _pick(tensors, name, what, path):
        keys = list(tensors)
        short = (name or '').split(':')[0]
        if short in keys:
            return short
        if len(keys) == 1 and not name:
            return keys[0]
        default = (ZOO_INPUT_TENSOR if what == 'input' else ZOO_OUTPUT_TENSOR).split(':')[0]
        if not name and default in keys:
            return default
        raise ModelLoadError(f"{path}: {what} '{name or default}' not found; the signature's "
                             f'{what}s are {keys}. Set {what}_tensor to one of them.')

    def predict(self, batch):
        return _labels_from(self._run(batch))

    def predict_with_confidence(self, batch):
        """Return the class ids and their confidence (None without scores), both [h, w]."""
        output = self._run(batch)
        return _labels_from(output), _full_confidence(output)

    def _run(self, batch):
        with self._tf.device(self._device):
            result = self._fn(**{self._input_key: self._tf.constant(batch)})
        return result[self._output_key].numpy()


BACKENDS = {'tflite': TFLiteModel, 'frozen_graph': FrozenGraphModel,
            'saved_model': SavedModelModel}


def load_model(model, input_tensor=None, output_tensor=None, device='auto', num_threads=None,
               cache=None):
    """
    Load a model by path or zoo name, warm it up, and return its backend.

    Two steps: ``model_source.resolve`` finds the local file and its format,
    then the backend for that format loads it. The backend carries ``file_format``,
    ``device``, ``fixed_size`` (or None), ``source``, ``dataset`` (the label
    space, from the zoo or guessed from the name), ``input_size`` (the
    zoo's, else 513), ``has_confidence`` and ``why_no_confidence`` next to
    ``predict`` and ``predict_with_confidence``.
    """
    found = resolve(model, cache)
    backend = BACKENDS[found.format](
        found.path, input_tensor=input_tensor or None, output_tensor=output_tensor or None,
        num_threads=num_threads or None, device=device)
    backend.source = str(model)
    entry = found.zoo_entry
    backend.dataset = entry.dataset if entry else guess_dataset(str(found.origin))
    backend.input_size = entry.input_size if entry else DEFAULT_INPUT_SIZE
    warm = backend.fixed_size or (64, 64)
    try:  # also checks the output is a label map; the first real frame is then not slow
        backend.predict(np.zeros((1, *warm, 3), dtype=np.uint8))
        if backend.has_confidence:
            backend.predict_with_confidence(np.zeros((1, *warm, 3), dtype=np.uint8))
    except ModelLoadError as err:
        raise ModelLoadError(f'{model}: {err}') from err
    return backend
