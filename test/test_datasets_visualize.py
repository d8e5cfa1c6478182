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

"""Colormaps, class names, colorizing and overlays (pure numpy, no model)."""

from deeplab_ros.engine.datasets import ADE20K_CLASSES, get_dataset, guess_dataset, pascal_colormap
from deeplab_ros.engine.visualize import class_shares, colorize, describe_classes, overlay
import numpy as np
import pytest


def test_pascal_colormap_matches_the_voc_palette():
    colormap = pascal_colormap()
    assert colormap.shape == (256, 3) and colormap.dtype == np.uint8
    assert colormap[0].tolist() == [0, 0, 0]
    assert colormap[1].tolist() == [128, 0, 0]       # aeroplane
    assert colormap[3].tolist() == [128, 128, 0]     # bird
    assert colormap[12].tolist() == [64, 0, 128]     # dog
    assert colormap[15].tolist() == [192, 128, 128]  # person
    assert len({tuple(c) for c in colormap}) == 256


def test_dataset_sizes_and_names():
    assert get_dataset('pascal').num_classes == 21
    assert get_dataset('cityscapes').num_classes == 19
    assert get_dataset('cityscapes').colormap[13].tolist() == [0, 0, 142]  # car
    assert get_dataset('ade20k').num_classes == 151 and len(ADE20K_CLASSES) == 151
    assert get_dataset('pascal').class_id('Person') == 15
    assert get_dataset('pascal').class_id('12') == 12
    assert get_dataset('cityscapes').background_id is None
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        get_dataset('pascal').class_id('unicorn')
    with pytest.raises(ValueError, match="unknown dataset 'coco'"):
        get_dataset('coco')


def test_labels_file(tmp_path):
    labels = tmp_path / 'floor.txt'
    labels.write_text('other\nfloor\nwall\n')
    dataset = get_dataset('pascal', labels_file=labels)
    assert dataset.class_names == ('other', 'floor', 'wall')
    assert dataset.class_id('floor') == 1
    with pytest.raises(ValueError, match='cannot read labels file'):
        get_dataset('pascal', labels_file=tmp_path / 'missing.txt')


def test_guess_dataset_from_names():
    assert guess_dataset('deeplabv3_xception_ade20k_train_2018_05_29.tar.gz') == 'ade20k'
    assert guess_dataset('deeplab_mnv3_small_cityscapes_trainfine.tar.gz') == 'cityscapes'
    assert guess_dataset('my_model.tflite') == 'pascal'


def test_colorize_and_overlay_touch_only_recognised_pixels():
    labels = np.zeros((4, 6), dtype=np.uint8)
    labels[1:3, 2:5] = 3
    image = np.full((4, 6, 3), 200, dtype=np.uint8)
    mask = colorize(labels, pascal_colormap())
    assert mask.shape == (4, 6, 3) and mask[1, 2].tolist() == [128, 128, 0]
    background = get_dataset('pascal').background_mask(labels)
    assert np.array_equal(background, labels == 0)
    assert get_dataset('cityscapes').background_mask(labels) is None
    blended = overlay(image, mask, 0.5, background=background)
    changed = np.any(blended != image, axis=2)
    assert np.array_equal(changed, labels != 0)
    assert blended[1, 2].tolist() == [164, 164, 100]
    assert np.array_equal(overlay(image, mask, 0.0), image)


def test_class_shares_and_description():
    labels = np.array([[0, 0, 0, 3]], dtype=np.uint8)
    assert class_shares(labels, 21) == [(0, 0.75), (3, 0.25)]
    assert describe_classes(labels, get_dataset('pascal')) == 'background 75.0%, bird 25.0%'
