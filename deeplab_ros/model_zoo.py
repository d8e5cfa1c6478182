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
The published DeepLab models by short name, downloaded once into a cache.

Downloads are atomic (a ``.part`` file renamed on success) and tarballs are
extracted only after every member is checked to stay inside the target.
"""

from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

ZOO_URL = 'http://download.tensorflow.org/models/'
CORAL_URL = 'https://github.com/google-coral/test_data/raw/master/'
FROZEN_GRAPH = 'frozen_inference_graph.pb'


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


class DownloadError(RuntimeError):
    """A model could not be fetched; the message says how to place it by hand."""


def cache_dir(override=None):
    """Return the model cache: ``override``, $DEEPLAB_ROS_CACHE, or the XDG cache."""
    if override:
        return Path(override).expanduser()
    if os.environ.get('DEEPLAB_ROS_CACHE'):
        return Path(os.environ['DEEPLAB_ROS_CACHE']).expanduser()
    xdg = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(xdg) / 'deeplab_ros'


def _progress(done, total, stream):
    if total:
        filled = int(30 * done / total)
        stream.write(f'\r  [{"#" * filled}{"." * (30 - filled)}] '
                     f'{done / 1e6:6.1f} / {total / 1e6:.1f} MB')
    else:
        stream.write(f'\r  {done / 1e6:6.1f} MB')
    stream.flush()


def download(url, target, progress=sys.stderr, timeout=30):
    """Fetch ``url`` into ``target`` atomically; an existing file is reused."""
    target = Path(target)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(dir=target.parent, prefix=target.name + '.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get('Content-Length') or 0)
            done = 0
            if progress:
                progress.write(f'Downloading {url}\n')
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    _progress(done, total, progress)
            if progress:
                progress.write('\n')
            if total and done != total:
                raise DownloadError(f'download of {url} was cut off at {done} of {total} bytes')
        os.replace(part, target)
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(
            f'cannot download {url}: {getattr(err, "reason", err)}. If this machine is '
            f'offline, fetch the file elsewhere and place it at {target} '
            f'(or pass its path as the model).') from err
    finally:
        if os.path.exists(part):
            os.unlink(part)
    return target


def _check_members(tar, destination):
    root = Path(destination).resolve()
    for member in tar.getmembers():
        name = member.name
        if member.issym() or member.islnk() or not (member.isfile() or member.isdir()):
            raise ValueError(f'refusing to extract {tar.name}: member {name!r} is a link '
                             'or special file')
        resolved = (root / name).resolve()
        if os.path.isabs(name) or '..' in Path(name).parts or root not in resolved.parents:
            raise ValueError(f'refusing to extract {tar.name}: member {name!r} would land '
                             f'outside {root}')


def extract_tarball(tarball, destination):
    """Safely extract ``tarball`` to ``destination`` (atomic; reused when present)."""
    destination = Path(destination)
    if destination.is_dir():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=destination.name + '.'))
    try:
        try:
            with tarfile.open(tarball) as tar:
                _check_members(tar, staging)
                tar.extractall(staging, filter='data')
        except (tarfile.TarError, EOFError, OSError) as err:
            raise ValueError(f'{tarball} is not a readable .tar.gz archive ({err}); '
                             'delete it and download it again') from err
        os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def find_frozen_graph(folder):
    """Return the ``frozen_inference_graph.pb`` inside an extracted zoo tarball."""
    found = sorted(Path(folder).rglob(FROZEN_GRAPH))
    if not found:
        raise ValueError(f'no {FROZEN_GRAPH} inside {folder}; is this a DeepLab '
                         'model zoo tarball?')
    return found[0]


def tarball_graph(tarball, cache=None):
    """Extract a zoo tarball into the cache and return its frozen graph's path."""
    tarball = Path(tarball)
    stat = tarball.stat()
    stem = tarball.name[:-len('.tar.gz')] if tarball.name.endswith('.tar.gz') else tarball.stem
    folder = cache_dir(cache) / 'extracted' / f'{stem}-{stat.st_size}'
    return find_frozen_graph(extract_tarball(tarball, folder))


def fetch(name, cache=None, progress=sys.stderr):
    """Return the local path of zoo model ``name``, downloading it on first use."""
    if name not in ZOO:
        raise ValueError(f"unknown model '{name}'; zoo models: {', '.join(sorted(ZOO))}")
    entry = ZOO[name]
    return download(entry.url, cache_dir(cache) / entry.file_name, progress=progress)


def entry_for_file(file_name):
    """Return the zoo entry whose published file is ``file_name``, or None."""
    return next((m for m in ZOO.values() if m.file_name == file_name), None)
