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
``deeplab-segment``: try a DeepLab model on image files, no ROS needed.

Writes ``<stem>_label.png`` (8-bit class ids at the input size),
``<stem>_mask.png`` (dataset colors) and ``<stem>_overlay.png`` per image,
and prints the classes found with their pixel share.
"""

import argparse
from pathlib import Path
import sys

import cv2

from deeplab_ros.datasets import DATASETS, get_dataset
from deeplab_ros.model_loading import load_model, ModelLoadError
from deeplab_ros.model_zoo import ZOO
from deeplab_ros.segmenter import Segmenter
from deeplab_ros.visualize import colorize, describe_classes, overlay

DEFAULT_MODEL = 'mobilenetv2_coco_voctrainaug'


def build_parser():
    parser = argparse.ArgumentParser(
        prog='deeplab-segment', description=__doc__.split('\n\n')[0],
        epilog='zoo models: ' + ', '.join(sorted(ZOO)))
    parser.add_argument('images', nargs='+', type=Path, help='image files to segment')
    parser.add_argument('--model', default=DEFAULT_MODEL,
                        help='model path (.tar.gz, .pb, SavedModel folder, .tflite) or zoo '
                             'name (default: %(default)s)')
    parser.add_argument('--out', type=Path, default=Path('segmented'),
                        help='output folder (default: %(default)s)')
    parser.add_argument('--dataset', choices=['auto', *DATASETS], default='auto',
                        help='label space for colors and names (default: from the model)')
    parser.add_argument('--labels', help='class names file, one per line (overrides --dataset)')
    parser.add_argument('--input-size', type=int, help='longest side fed to the model')
    parser.add_argument('--device', default='auto', help='auto, cpu or gpu:N')
    parser.add_argument('--threads', type=int, default=0, help='inference threads (0: all)')
    parser.add_argument('--alpha', type=float, default=0.5, help='overlay opacity 0..1')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        model = load_model(args.model, device=args.device, num_threads=args.threads)
        dataset = get_dataset(model.dataset if args.dataset == 'auto' else args.dataset,
                              args.labels)
        segmenter = Segmenter(model, args.input_size)
    except (ModelLoadError, ValueError) as err:
        print(f'deeplab-segment: {err}', file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.images:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            print(f'{path}: cannot read as an image, skipped', file=sys.stderr)
            failed += 1
            continue
        labels = segmenter.segment(bgr, color_order='bgr')
        mask_bgr = colorize(labels, dataset.colormap)[..., ::-1]
        background = dataset.background_mask(labels)
        stem = args.out / path.stem
        cv2.imwrite(f'{stem}_label.png', labels)
        cv2.imwrite(f'{stem}_mask.png', mask_bgr)
        cv2.imwrite(f'{stem}_overlay.png',
                    overlay(bgr, mask_bgr, args.alpha, background))
        print(f'{path.name}: {describe_classes(labels, dataset)}')
    print(f'wrote {len(args.images) - failed} result(s) to {args.out}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
