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

Downloads are atomic (a ``.part`` file renamed on success), checked against
their pinned sha256 where one is known, and go through
``$DEEPLAB_ROS_DOWNLOAD_MIRROR`` when it is set. Tarballs are extracted only
after every member is checked to stay inside the target; two processes
extracting the same one at once both end up using one result. Cache files
and folders honour the umask, so a cache can be shared by a robot's users.
"""

from dataclasses import dataclass
import hashlib
import os
from pathlib import Path
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

ZOO_URL = 'http://download.tensorflow.org/models/'
# Coral's test data, pinned to one commit so the checksums below stay true.
CORAL_URL = ('https://github.com/google-coral/test_data/raw/'
             '104342d2d3480b3e66203073dac24f4e2dbb4c41/')
MIRROR_VARIABLE = 'DEEPLAB_ROS_DOWNLOAD_MIRROR'
CACHE_VARIABLE = 'DEEPLAB_ROS_CACHE'

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
FROZEN_GRAPH = 'frozen_inference_graph.pb'
# The node's and deeplab-segment's model when none is given (the original recipe's).
DEFAULT_MODEL = 'mobilenetv2_coco_voctrainaug'


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
    """A file could not be fetched or stored; the message says what to do instead."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason or message  # the cause alone, for callers with their own advice


def cache_dir(override=None):
    """Return the model cache: ``override``, $DEEPLAB_ROS_CACHE, or the XDG cache."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE]).expanduser()
    xdg = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(xdg) / 'deeplab_ros'


def writable_folder(folder):
    """Create ``folder`` if needed; DownloadError naming the cache variable if it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # the real test, even for root
            pass
    except OSError as err:
        raise DownloadError(f'cannot write to the model cache {folder}: '
                            f'{err.strerror or err}; set {CACHE_VARIABLE} to a writable '
                            'folder') from err
    return folder


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path, mode):
    """Give a file made by mkstemp/mkdtemp (0600/0700) the umask's usual permissions."""
    os.chmod(path, mode & ~_umask())


def source_url(url):
    """``url``, or ``$DEEPLAB_ROS_DOWNLOAD_MIRROR/<its file name>`` when the mirror is set."""
    mirror = os.environ.get(MIRROR_VARIABLE, '').strip()
    if not mirror:
        return url
    return mirror.rstrip('/') + '/' + url.rstrip('/').rsplit('/', 1)[-1]


def _progress(done, total, stream):
    if total:
        filled = int(30 * done / total)
        stream.write(f'\r  [{"#" * filled}{"." * (30 - filled)}] '
                     f'{done / 1e6:6.1f} / {total / 1e6:.1f} MB')
    else:
        stream.write(f'\r  {done / 1e6:6.1f} MB')
    stream.flush()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, target, progress=sys.stderr, timeout=30, sha256=None):
    """
    Fetch ``url`` (or its mirror) into ``target`` atomically; an existing file is reused.

    With ``sha256`` the download is checked and a mismatch is an error (the
    partial file is removed, nothing lands at ``target``).
    """
    target = Path(target)
    if target.is_file():
        return target
    writable_folder(target.parent)
    fetched = source_url(url)
    fd, part = tempfile.mkstemp(dir=target.parent, prefix=target.name + '.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out, urllib.request.urlopen(fetched, timeout=timeout) as resp:
            total = int(resp.headers.get('Content-Length') or 0)
            done = 0
            if progress:
                progress.write(f'Downloading {fetched}\n')
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    _progress(done, total, progress)
            if progress:
                progress.write('\n')
            if total and done != total:
                raise DownloadError(f'download of {fetched} was cut off at {done} of {total} '
                                    'bytes')
        digest = _sha256(part) if sha256 else None
        if digest != sha256:
            raise DownloadError(f'{fetched} does not have the expected content (sha256 '
                                f'{digest}, expected {sha256}); the server or mirror '
                                'holds another file')
        _share(part, 0o666)
        os.replace(part, target)
    except (urllib.error.URLError, OSError) as err:
        mirror = '' if fetched != url else f', or set {MIRROR_VARIABLE} to a server holding it'
        reason = f'cannot download {fetched}: {getattr(err, "reason", err)}'
        raise DownloadError(
            f'{reason}. If this machine is offline, fetch the file elsewhere and place it at '
            f'{target}{mirror} (or pass its path as the model).', reason) from err
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
    writable_folder(destination.parent)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=destination.name + '.'))
    try:
        _share(staging, 0o777)
        try:
            with tarfile.open(tarball) as tar:
                _check_members(tar, staging)
                tar.extractall(staging, filter='data')
        except (tarfile.TarError, EOFError, OSError) as err:
            raise ValueError(f'{tarball} is not a readable .tar.gz archive ({err}); '
                             'delete it and download it again') from err
        try:
            os.replace(staging, destination)
        except OSError:
            if not destination.is_dir():  # not another process that won the race
                raise
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
    return download(entry.url, cache_dir(cache) / entry.file_name, progress=progress,
                    sha256=PINNED.get(entry.file_name, (None,))[0])


def entry_for_file(file_name):
    """Return the zoo entry whose published file is ``file_name``, or None."""
    return next((m for m in ZOO.values() if m.file_name == file_name), None)
