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

"""Class names and colormaps of the datasets DeepLab models are trained on."""

from dataclasses import dataclass
from pathlib import Path

from deeplab_ros.engine.image_files import read_file
import numpy as np

MAX_LABELS_BYTES = 1 << 20  # 256 class names are a few KB

# Other names the same class goes by: PASCAL VOC's own file calls class 20 tvmonitor.
ALIASES = {'tvmonitor': 'tv', 'tv_monitor': 'tv', 'airplane': 'aeroplane',
           'motorcycle': 'motorbike', 'dining_table': 'diningtable',
           'potted_plant': 'pottedplant'}
PASCAL_CLASSES = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
    'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
    'sheep', 'sofa', 'train', 'tv',
)

# Cityscapes train ids 0..18, as the DeepLab Cityscapes checkpoints output them.
CITYSCAPES_CLASSES = (
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
    'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
    'bus', 'train', 'motorcycle', 'bicycle',
)

# The official Cityscapes label colors (no generator exists for this palette).
CITYSCAPES_COLORS = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
)

# ADE20K SceneParsing's 150 classes; DeepLab adds 'other' as id 0.
ADE20K_CLASSES = ('other',) + tuple((
    'wall,building,sky,floor,tree,ceiling,road,bed,windowpane,grass,cabinet,sidewalk,'
    'person,earth,door,table,mountain,plant,curtain,chair,car,water,painting,sofa,shelf,'
    'house,sea,mirror,rug,field,armchair,seat,fence,desk,rock,wardrobe,lamp,bathtub,'
    'railing,cushion,base,box,column,signboard,chest of drawers,counter,sand,sink,'
    'skyscraper,fireplace,refrigerator,grandstand,path,stairs,runway,case,pool table,'
    'pillow,screen door,stairway,river,bridge,bookcase,blind,coffee table,toilet,flower,'
    'book,hill,bench,countertop,stove,palm,kitchen island,computer,swivel chair,boat,bar,'
    'arcade machine,hovel,bus,towel,light,truck,tower,chandelier,awning,streetlight,'
    'booth,television receiver,airplane,dirt track,apparel,pole,land,bannister,'
    'escalator,ottoman,bottle,buffet,poster,stage,van,ship,fountain,conveyer belt,'
    'canopy,washer,plaything,swimming pool,stool,barrel,basket,waterfall,tent,bag,'
    'minibike,cradle,oven,ball,food,step,tank,trade name,microwave,pot,animal,bicycle,'
    'lake,dishwasher,screen,blanket,sculpture,hood,sconce,vase,traffic light,tray,'
    'ashcan,fan,pier,crt screen,plate,monitor,bulletin board,shower,radiator,glass,'
    'clock,flag').split(','))


def pascal_colormap(size=256):
    """Return the PASCAL VOC colormap: each id's bits spread over R, G and B (MSB first)."""
    ids = np.arange(size, dtype=np.int64)
    colormap = np.zeros((size, 3), dtype=np.int64)
    for shift in range(7, -1, -1):
        for channel in range(3):
            colormap[:, channel] |= ((ids >> channel) & 1) << shift
        ids >>= 3
    return colormap.astype(np.uint8)


@dataclass(frozen=True)
class Dataset:
    """A label space: class names by id and one RGB color per id."""

    name: str
    class_names: tuple
    colormap: np.ndarray  # (256, 3) uint8, so any uint8 label indexes it safely

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def background_id(self):
        """Id of the catch-all class (PASCAL 'background', ADE20K 'other'), or None."""
        return 0 if self.class_names[0] in ('background', 'other') else None

    def background_mask(self, labels):
        """Boolean mask of catch-all pixels, or None for label spaces without one."""
        return labels == self.background_id if self.background_id is not None else None

    def class_id(self, name_or_id):
        """Resolve a class name (case-insensitive) or numeric id to an id."""
        text = str(name_or_id).strip()
        if text.isascii() and text.isdigit() and int(text) < self.num_classes:
            return int(text)
        lowered = [n.lower() for n in self.class_names]
        text = ALIASES.get(text.lower(), text)
        if text.lower() in lowered:
            return lowered.index(text.lower())
        raise ValueError(f"unknown class '{text}' for dataset {self.name}; "
                         f"known: {', '.join(self.class_names)}")


def _padded(colors):
    colormap = pascal_colormap()
    colormap[:len(colors)] = np.asarray(colors, dtype=np.uint8)
    return colormap


DATASETS = {
    'pascal': Dataset('pascal', PASCAL_CLASSES, pascal_colormap()),
    'cityscapes': Dataset('cityscapes', CITYSCAPES_CLASSES, _padded(CITYSCAPES_COLORS)),
    # The DeepLab ADE20K palette is a hand-made table; the generated PASCAL one
    # gives 151 distinct colors with no table to paste.
    'ade20k': Dataset('ade20k', ADE20K_CLASSES, pascal_colormap()),
}


def get_dataset(name, labels_file=None):
    """
    Return a known dataset, or one whose class names come from ``labels_file``.

    ``labels_file`` holds one class name per line, the line number being the id
    (the format of Coral's label files); its colors are the PASCAL colormap's.
    """
    if labels_file:
        path = Path(labels_file)
        try:  # a regular file of at most 1 MB: /dev/zero or a FIFO would never end
            text = read_file(path, limit=MAX_LABELS_BYTES, what='labels file')
        except OSError as err:
            raise ValueError(f'cannot read labels file {path}: {err.strerror}') from err
        names = tuple(line.strip() for line in text.decode('utf-8', 'replace').splitlines()
                      if line.strip())
        if not names or len(names) > 256:
            raise ValueError(f'labels file {path} must list 1 to 256 class names, '
                             f'one per line; it has {len(names)}')
        return Dataset(path.stem, names, pascal_colormap())
    if name not in DATASETS:
        raise ValueError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def guess_dataset(model_name):
    """Guess the label space from a model's file or zoo name."""
    lowered = str(model_name).lower()
    if 'ade20k' in lowered:
        return 'ade20k'
    if 'cityscapes' in lowered:
        return 'cityscapes'
    return 'pascal'
