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
The published DeepLab models by short name, and every file whose content is pinned.

``fetch(name)`` downloads a zoo model once into the cache (``downloads``).
"""

from dataclasses import dataclass
import os
import sys

from deeplab_ros.engine.downloads import cache_dir, download, DownloadError

ZOO_URL = 'https://download.tensorflow.org/models/'
# Coral's test data, pinned to one commit so the checksums below stay true.
UNPINNED_VARIABLE = 'DEEPLAB_ROS_ALLOW_UNPINNED'
CORAL_URL = ('https://github.com/google-coral/test_data/raw/'
             '104342d2d3480b3e66203073dac24f4e2dbb4c41/')

# Every file whose content is pinned: name -> (sha256, bytes). All are under
# CORAL_URL (Apache License 2.0); the demo and the tests use them.
PINNED = {
    'deeplabv3_mnv2_pascal_quant.tflite':
        ('350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398', 2193224),
    'deeplabv3_mnv2_dm05_pascal_quant.tflite':
        ('0470d2a782aa54eeeb99d32e7b6b3fb7722905c7c4f5d26bd957ec861366d48b', 760904),
    'deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite':
        ('322fe29945cb1693f426952f2a330ab67ea5678545ddee6f2548e0cfd0ca03e5', 2157328),
    'bird_segmentation.bmp':
        ('24dbd0ca9c379b5b8d055026e073a3ffb54ad72ac0746d31d16da9306865ee48', 790158),
    'bird_segmentation_mask.bmp':
        ('6b21e7b7c5825bba126b4588a917339c915e7073db29d9f3d404ba8aeed53454', 265788),
    'dog_segmentation.bmp':
        ('4135e33634f6bc241e40d62dd156bf3ba140c0b7a9477982525c8a7a7754f15a', 49290),
    'dog_segmentation_mask.bmp':
        ('2976747a56eede7cbd7356bb5fe821c8e19ba904bd81040f5a523287374d2649', 17464),
    'cityscapes_segmentation.bmp':
        ('c6112bc14676e1c06a6103fbde13b622109343793aa17f0b850f10cf0773816c', 790074),
    'cityscapes_segmentation_mask.bmp':
        ('69bf49bb8210d1466bc18ba7480484f4abcab03bb9bc273425adb8c167571668', 265786),
}
# The node's and deeplab-segment's model when none is given: pinned by sha256, fast on a
# CPU and needing LiteRT only (the original recipe's frozen graphs need TensorFlow and
# have no published checksum).
DEFAULT_MODEL = 'mobilenetv2_pascal_quant_tflite'


@dataclass(frozen=True)
class ZooModel:
    """A published model: where it lives, what it segments, at what size."""

    name: str
    file_name: str
    dataset: str
    input_size: int
    accuracy: str
    base_url: str = ZOO_URL

    @property
    def url(self):
        return self.base_url + self.file_name


# mIOU as the DeepLab model zoo reports it (single scale, eval OS 16 where given).
ZOO = {m.name: m for m in (
    ZooModel('xception_coco_voctrainaug', 'deeplabv3_pascal_train_aug_2018_01_04.tar.gz',
             'pascal', 513, 'PASCAL val 82.20%'),
    ZooModel('xception_coco_voctrainval', 'deeplabv3_pascal_trainval_2018_01_04.tar.gz',
             'pascal', 513, 'PASCAL test 87.80% (multi-scale)'),
    ZooModel('mobilenetv2_coco_voctrainaug', 'deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz',
             'pascal', 513, 'PASCAL val 75.32%'),
    ZooModel('mobilenetv2_coco_voctrainval', 'deeplabv3_mnv2_pascal_trainval_2018_01_29.tar.gz',
             'pascal', 513, 'PASCAL test 80.25% (multi-scale)'),
    ZooModel('mobilenetv2_dm05_coco_voctrainaug',
             'deeplabv3_mnv2_dm05_pascal_trainaug_2018_10_01.tar.gz',
             'pascal', 513, 'PASCAL val 70.19%'),
    ZooModel('mobilenetv2_dm05_coco_voctrainval',
             'deeplabv3_mnv2_dm05_pascal_trainval_2018_10_01.tar.gz',
             'pascal', 513, 'PASCAL test (trainval checkpoint)'),
    ZooModel('mobilenetv2_coco_cityscapes_trainfine',
             'deeplabv3_mnv2_cityscapes_train_2018_02_05.tar.gz',
             'cityscapes', 1025, 'Cityscapes val 70.71%'),
    ZooModel('mobilenetv3_large_cityscapes_trainfine',
             'deeplab_mnv3_large_cityscapes_trainfine_2019_11_15.tar.gz',
             'cityscapes', 1025, 'Cityscapes val (MobileNetV3 large)'),
    ZooModel('mobilenetv3_small_cityscapes_trainfine',
             'deeplab_mnv3_small_cityscapes_trainfine_2019_11_15.tar.gz',
             'cityscapes', 1025, 'Cityscapes val (MobileNetV3 small)'),
    ZooModel('xception65_cityscapes_trainfine', 'deeplabv3_cityscapes_train_2018_02_06.tar.gz',
             'cityscapes', 1025, 'Cityscapes val 78.79%'),
    ZooModel('mobilenetv2_ade20k_train', 'deeplabv3_mnv2_ade20k_train_2018_12_03.tar.gz',
             'ade20k', 513, 'ADE20K val (MobileNetV2)'),
    ZooModel('xception65_ade20k_train', 'deeplabv3_xception_ade20k_train_2018_05_29.tar.gz',
             'ade20k', 513, 'ADE20K val 45.65% (multi-scale)'),
    # Coral's uint8 TFLite conversions: small, fast on a CPU, fixed 513x513 input.
    ZooModel('mobilenetv2_pascal_quant_tflite', 'deeplabv3_mnv2_pascal_quant.tflite',
             'pascal', 513, 'PASCAL (uint8 quantized)', CORAL_URL),
    ZooModel('mobilenetv2_dm05_pascal_quant_tflite', 'deeplabv3_mnv2_dm05_pascal_quant.tflite',
             'pascal', 513, 'PASCAL (uint8 quantized, depth 0.5)', CORAL_URL),
    ZooModel('edgetpu_slim_cityscapes_quant_tflite',
             'deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite',
             'cityscapes', 513, 'Cityscapes (uint8 quantized)', CORAL_URL),
)}


def fetch(name, cache=None, progress=sys.stderr):
    """
    Return the local path of zoo model ``name``, downloading it on first use.

    A model runs as code, so one with no pinned sha256 (the TensorFlow zoo's
    tarballs publish none) is downloaded only when the user opts in.
    """
    if name not in ZOO:
        raise ValueError(f"unknown model '{name}'; zoo models: {', '.join(sorted(ZOO))}")
    entry = ZOO[name]
    target = cache_dir(cache) / entry.file_name
    pin, size = PINNED.get(entry.file_name, (None, None))
    if pin is None and not target.is_file() and os.environ.get(UNPINNED_VARIABLE) != '1':
        raise DownloadError(
            f'{name} ({entry.url}) has no pinned sha256, so what is downloaded cannot be '
            f'checked before it runs: set {UNPINNED_VARIABLE}=1 to download it anyway, or '
            'fetch and check it yourself and pass its path as the model', offline=False)
    return download(entry.url, target, progress=progress, sha256=pin, size=size)


def entry_for_file(file_name):
    """Return the zoo entry whose published file is ``file_name``, or None."""
    return next((m for m in ZOO.values() if m.file_name == file_name), None)
