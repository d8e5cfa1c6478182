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
``<stem>_mask.png`` (dataset colors) and ``<stem>_overlay.png`` per image
(folders are expanded to the images inside whose name matches ``--pattern``;
a stem seen twice, or whose results would replace an input, gets ``-2``, so
neither an input nor a result of the run is overwritten), and prints the
classes found with their pixel share. Exit codes: 0 all written, 1 some image
failed, 2 bad arguments or model, 130 interrupted (Ctrl-C or SIGTERM).
"""

import argparse
import os
from pathlib import Path
import signal
import sys

import cv2
from deeplab_ros.engine.datasets import DATASETS, get_dataset
from deeplab_ros.engine.image_files import folder_images, ImageError, printable, \
    read_image_file
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.engine.model_zoo import DEFAULT_MODEL, ZOO
from deeplab_ros.engine.segmenter import Segmenter
from deeplab_ros.engine.visualize import colorize, describe_classes, overlay


def _number(kind, low, high=None):
    """Return an argparse type: ``kind`` within [low, high], naming the range when not."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a {kind.__name__}') from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f'{value} is out of range: expected {low} to {high}' if high is not None
                else f'{value} is out of range: expected at least {low}')
        return value
    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        prog='deeplab-segment', description=__doc__.split('\n\n')[0],
        epilog='zoo models: ' + ', '.join(sorted(ZOO)))
    parser.add_argument('images', nargs='+', type=Path,
                        help='image files, or folders of images, to segment')
    parser.add_argument('--model', default=DEFAULT_MODEL,
                        help='model path (.tar.gz, .pb, SavedModel folder, .tflite) or zoo '
                             'name (default: %(default)s)')
    parser.add_argument('--out', type=Path, default=Path('segmented'),
                        help='output folder (default: %(default)s)')
    parser.add_argument('--pattern', default='*',
                        help='in folders, only the images whose name matches this glob, '
                             "e.g. '*_segmentation.*' (default: all; named files are taken)")
    parser.add_argument('--dataset', choices=['auto', *DATASETS], default='auto',
                        help='label space for colors and names (default: from the model)')
    parser.add_argument('--labels', help='class names file, one per line (overrides --dataset)')
    parser.add_argument('--input-size', type=_number(int, 16, 4096),
                        help='longest side fed to the model (16 to 4096)')
    parser.add_argument('--device', default='auto', help='auto, cpu or gpu:N')
    parser.add_argument('--threads', type=_number(int, 0, 256), default=0,
                        help='inference threads, 0 to 256 (0: all cores)')
    parser.add_argument('--alpha', type=_number(float, 0.0, 1.0), default=0.5,
                        help='overlay opacity, 0 to 1')
    return parser


RESULTS = ('label', 'mask', 'overlay')  # <stem>_<result>.png


def expand(paths, pattern='*'):
    """Replace each folder by the images inside it matching ``pattern``; files stay as given."""
    found = []
    for path in paths:
        found += folder_images(path, pattern) if path.is_dir() else [path]
    return found


def _identity(path):
    """Return what makes a file itself whatever the path (device, inode), or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def unique_stems(paths, out=None):
    """
    Output stems for ``paths``, all different: the file's stem, else ``-2``, ``-3``...

    A suffixed stem never takes one an input has (``a.bmp a.png a-2.bmp`` give
    ``a``, ``a-2`` and ``a-2-2``), and with the ``out`` folder, no stem whose
    results would be written over an input (``a.png`` next to ``a_label.png``,
    or to a link to it, gives ``a-2``).
    """
    inputs = {_identity(path) for path in paths} - {None}

    def taken(stem):
        return stem in used or out is not None and any(
            _identity(out / f'{stem}_{result}.png') in inputs for result in RESULTS)
    used, stems = set(), []
    for path in paths:
        stem, count = path.stem, 1
        while taken(stem):
            count += 1
            stem = f'{path.stem}-{count}'
        used.add(stem)
        stems.append(stem)
    return stems


def _write(path, image):
    """Write a PNG; encoded here and written by Python (OpenCV's imwrite fails on some names)."""
    ok, encoded = cv2.imencode('.png', image)
    try:
        if not ok:
            raise OSError('the PNG encoder failed')
        with open(path, 'wb') as handle:
            handle.write(encoded.tobytes())
    except OSError as err:
        raise OSError(f'cannot write {printable(path)}: {err.strerror or err}') from err


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return run(build_parser().parse_args(argv))
    except KeyboardInterrupt:
        for signum in (signal.SIGINT, signal.SIGTERM):  # more signals change nothing now
            signal.signal(signum, signal.SIG_IGN)
        print('deeplab-segment: interrupted', file=sys.stderr)
        return 130
    finally:
        if signal.getsignal(signal.SIGTERM) is _stop_on_sigterm:
            signal.signal(signal.SIGTERM, previous)


def run(args):
    if args.out.exists() and not args.out.is_dir():
        print(f'deeplab-segment: --out {args.out} is a file; give a folder', file=sys.stderr)
        return 2
    images = expand(args.images, args.pattern)
    if not images:
        matching = f' matching {args.pattern!r}' if args.pattern != '*' else ''
        print(f'deeplab-segment: no images{matching} found in '
              + ', '.join(map(printable, args.images)), file=sys.stderr)
        return 2
    try:
        model = load_model(args.model, device=args.device, num_threads=args.threads)
        dataset = get_dataset(model.dataset if args.dataset == 'auto' else args.dataset,
                              args.labels)
        segmenter = Segmenter(model, args.input_size)
    except (ModelLoadError, ValueError) as err:
        print(f'deeplab-segment: {err}', file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f'deeplab-segment: cannot create --out {args.out}: {err.strerror}',
              file=sys.stderr)
        return 2
    written = 0
    for path, stem in zip(images, unique_stems(images, args.out)):
        try:
            bgr = read_image_file(path)
        except ImageError as err:
            print(f'{printable(path)}: {err}, skipped', file=sys.stderr)
            continue
        except OSError as err:
            print(f'{printable(path)}: cannot read it: {err.strerror or err}, skipped',
                  file=sys.stderr)
            continue
        if bgr is None:
            print(f'{printable(path)}: cannot read as an image, skipped', file=sys.stderr)
            continue
        labels = segmenter.segment(bgr, color_order='bgr')
        mask_bgr = colorize(labels, dataset.colormap)[..., ::-1]
        results = (labels, mask_bgr,
                   overlay(bgr, mask_bgr, args.alpha, dataset.background_mask(labels)))
        try:
            for result, image in zip(RESULTS, results):
                _write(args.out / f'{stem}_{result}.png', image)
        except OSError as err:
            print(f'{printable(path)}: {err}', file=sys.stderr)
            continue
        written += 1
        print(f'{printable(path.name)}: {describe_classes(labels, dataset)}'
              + (f' (saved as {printable(stem)}_*.png)' if stem != path.stem else ''),
              flush=True)
    print(f'wrote {written} of {len(images)} result(s) to {args.out}')
    return 0 if written == len(images) else 1


if __name__ == '__main__':
    sys.exit(main())
