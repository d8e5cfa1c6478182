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

"""The confidence of each label, on the real uint8 PASCAL model and photos (no ROS)."""

import cv2
from deeplab_ros.engine.model_loading import load_model
from deeplab_ros.engine.segmenter import Segmenter
import numpy as np
import pytest

BIRD, DOG = 3, 12


@pytest.fixture(scope='module')
def pascal(pascal_model):
    return Segmenter(load_model(pascal_model))


def photo(data_dir, name):
    image = cv2.imread(str(data_dir / 'images' / f'{name}_segmentation.bmp'))
    mask = cv2.imread(str(data_dir / 'images' / f'{name}_segmentation_mask.bmp'),
                      cv2.IMREAD_UNCHANGED)
    return image, mask


def segment_with_confidence(segmenter, image, resolution='input'):
    prepared = segmenter.prepare(image, 'bgr')
    labels, confidence = segmenter.infer(prepared, confidence=True)
    return (segmenter.finish(prepared, labels, resolution),
            segmenter.finish(prepared, confidence, resolution))


def band(mask, size):
    """Return the pixels within ``size`` // 2 of the mask's edge, inside and out."""
    kernel = np.ones((size, size), np.uint8)
    return (cv2.dilate(mask, kernel) - cv2.erode(mask, kernel)).astype(bool)


def test_the_model_reads_its_scores_and_the_labels_stay_bit_exact(pascal, data_dir):
    assert pascal.model.has_confidence and pascal.model.why_no_confidence is None
    for name in ('bird', 'dog', 'cityscapes'):
        image, _ = photo(data_dir, name)
        labels, confidence = segment_with_confidence(pascal, image)
        assert np.array_equal(labels, pascal.segment(image, 'bgr')), name
        assert confidence.dtype == np.uint8 and confidence.shape == labels.shape
        # A softmax over 21 classes never gives the winner less than 1/21.
        assert confidence.min() >= 255 // 21


def test_the_bird_is_confident_inside_and_less_at_its_edge(pascal, data_dir):
    image, reference = photo(data_dir, 'bird')
    labels, confidence = segment_with_confidence(pascal, image)
    bird = (reference == BIRD).astype(np.uint8)
    interior = cv2.erode(bird, np.ones((25, 25), np.uint8)).astype(bool)
    assert interior.sum() > 20000 and np.all(labels[interior] == BIRD)
    assert confidence[interior].min() > 200
    edge = band(bird, 5)
    assert confidence[edge].mean() < confidence[interior].mean() - 15


def test_the_dog_is_mostly_confident_and_least_where_its_label_ends(pascal, data_dir):
    """The 128x128 dog is the photo the model is least sure of: half as sure at its outline."""
    image, reference = photo(data_dir, 'dog')  # the pet mask: 0 pet, 1 background, 2 border
    labels, confidence = segment_with_confidence(pascal, image)
    interior = cv2.erode((reference == 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.median(confidence[interior]) > 200 and (labels[interior] == DOG).mean() > 0.8
    outline = band((labels == DOG).astype(np.uint8), 3)
    assert confidence[outline].mean() < confidence[interior].mean() - 40


@pytest.mark.filterwarnings('ignore:Warning. Enabling .experimental_preserve_all_tensors')
def test_confidence_is_the_probability_of_the_label_shown(pascal, pascal_model, data_dir):
    """
    Against the exact value: the softmax of the 513x513x21 scores the model's ArgMax saw.

    Read here through the interpreter's debug option (too slow for every frame). The
    confidence is exact up to its interpolation from 33x33: within a few levels
    except within a score cell of a class boundary.
    """
    interpreter = pytest.importorskip('ai_edge_litert.interpreter').Interpreter(
        model_path=str(pascal_model), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    details = {d['name']: d for d in interpreter.get_tensor_details()}
    scores, ids = details['ResizeBilinear_2'], details['ArgMax']
    for name in ('bird', 'cityscapes'):
        image, _ = photo(data_dir, name)
        labels, confidence = segment_with_confidence(pascal, image)
        interpreter.set_tensor(interpreter.get_input_details()[0]['index'],
                               np.ascontiguousarray(image[None, ..., ::-1]))
        interpreter.invoke()
        assert np.array_equal(interpreter.get_tensor(ids['index'])[0], labels)
        logits = interpreter.get_tensor(scores['index'])[0].astype(np.float32)
        logits = (logits - logits.max(axis=-1, keepdims=True)) * scores['quantization'][0]
        shown = np.take_along_axis(logits, labels[..., None].astype(np.intp), -1)[..., 0]
        exact = np.rint(255 * np.exp(shown) / np.exp(logits).sum(axis=-1))
        error = np.abs(exact - confidence)
        assert error.mean() < 4 and (error <= 10).mean() > 0.9, name
        # Away from boundaries (the same label 24 pixels around) it is the label's own p.
        same = cv2.erode(labels, np.ones((49, 49), np.uint8)) == cv2.dilate(
            labels, np.ones((49, 49), np.uint8))
        assert same.mean() > 0.5 and np.percentile(error[same], 99) <= 5, name


def test_confidence_scales_and_crops_like_the_labels(pascal, data_dir):
    image, _ = photo(data_dir, 'bird')
    frame = cv2.resize(image, (640, 480))
    for resolution, shape in (('model', (385, 513)), ('input', (480, 640))):
        labels, confidence = segment_with_confidence(pascal, frame, resolution)
        assert labels.shape == confidence.shape == shape
        # The padding the model saw at the bottom is cropped from both: its grey
        # background is not in the map, and the bird's confident core is.
        assert confidence[labels == BIRD].mean() > 230


def test_infer_without_confidence_returns_the_labels_alone(pascal, data_dir):
    image, _ = photo(data_dir, 'dog')
    prepared = pascal.prepare(image, 'bgr')
    labels = pascal.infer(prepared)
    assert isinstance(labels, np.ndarray)
    assert np.array_equal(labels, pascal.infer(prepared, confidence=True)[0])
