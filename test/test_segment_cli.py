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

"""The deeplab-segment command on a real photo."""

import cv2
from deeplab_ros.segment_cli import main
import numpy as np


def test_writes_label_mask_and_overlay(data_dir, pascal_model, tmp_path, capsys):
    bird = data_dir / 'images' / 'bird_segmentation.bmp'
    assert main([str(bird), '--model', str(pascal_model), '--out', str(tmp_path)]) == 0
    labels = cv2.imread(str(tmp_path / 'bird_segmentation_label.png'), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(tmp_path / 'bird_segmentation_mask.png'))
    overlay = cv2.imread(str(tmp_path / 'bird_segmentation_overlay.png'))
    photo = cv2.imread(str(bird))
    assert labels.shape == (513, 513) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == {0, 3}
    assert mask[labels == 3][0].tolist() == [0, 128, 128]  # PASCAL bird, stored as BGR
    assert np.array_equal(overlay[labels == 0], photo[labels == 0])
    out = capsys.readouterr().out
    assert 'bird_segmentation.bmp: background 78' in out and 'bird 21' in out


def test_bad_model_and_unreadable_image(tmp_path, capsys, pascal_model):
    assert main(['x.png', '--model', str(tmp_path / 'none.tflite')]) == 2
    assert 'neither an existing file' in capsys.readouterr().err
    junk = tmp_path / 'junk.png'
    junk.write_bytes(b'not an image')
    assert main([str(junk), '--model', str(pascal_model), '--out', str(tmp_path)]) == 1
    assert 'cannot read as an image' in capsys.readouterr().err
