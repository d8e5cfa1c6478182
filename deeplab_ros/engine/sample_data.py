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
The real models and photos the demo, the tests and the benchmarks use, and where to find them.

Looked for, in order: ``$DEEPLAB_ROS_TEST_DATA`` (the Makefile and the test
configuration point it at a workspace's ``../shared/data``), and the download
cache (``<cache>/sample_data``, filled by ``fetch()``: ``make test-data``, or
``make demo`` on a bare clone). Every
file comes from Coral's test data, pinned by sha256 in ``model_zoo.PINNED``.
"""

import os
from pathlib import Path
import sys

from deeplab_ros.engine.downloads import cache_dir, download, DownloadError, \
    MIRROR_VARIABLE, sha256_of
from deeplab_ros.engine.model_zoo import CORAL_URL, PINNED

DATA_VARIABLE = 'DEEPLAB_ROS_TEST_DATA'
# The layout of a data folder: models/ and images/.
FILES = {name: ('models' if name.endswith('.tflite') else 'images') for name in PINNED}
DEMO_MODEL = 'models/deeplabv3_mnv2_pascal_quant.tflite'
DEMO_PHOTOS = ('bird_segmentation.bmp', 'dog_segmentation.bmp', 'cityscapes_segmentation.bmp')


def cached_data(cache=None):
    return cache_dir(cache) / 'sample_data'


def _intact(path, name):
    return path.is_file() and sha256_of(path) == PINNED[name][0]


def _complete(folder):
    """Tell whether every pinned file is in ``folder`` with its pinned content."""
    return all(_intact(folder / kind / name, name) for name, kind in FILES.items())


def model_folders(cache=None):
    """Return the ``models`` folders of every data folder that exists, in lookup order."""
    candidates = (os.environ.get(DATA_VARIABLE), cached_data(cache))
    return [Path(c) / 'models' for c in candidates if c and (Path(c) / 'models').is_dir()]


def find_data_dir(cache=None):
    """Return the first data folder that has the models, or None."""
    candidate = os.environ.get(DATA_VARIABLE)
    if candidate and (Path(candidate) / 'models').is_dir():
        return Path(candidate)
    cached = cached_data(cache)
    return cached if _complete(cached) else None


def fetch(cache=None, progress=sys.stderr):
    """Download the missing files into the cache (checked, atomic); return the folder."""
    folder = cached_data(cache)
    # A file that is there but corrupted is missing too (download fetches it again).
    missing = [name for name, kind in FILES.items() if not _intact(folder / kind / name, name)]
    for name in missing:
        try:
            download(CORAL_URL + name, folder / FILES[name] / name, progress=progress,
                     sha256=PINNED[name][0], size=PINNED[name][1])
        except DownloadError as err:
            if not err.offline:
                raise
            raise DownloadError(
                f'{err.reason}. Offline? Place {", ".join(missing)} (from {CORAL_URL}) in '
                f'{folder}/models (.tflite) and {folder}/images (.bmp), or set '
                f'{MIRROR_VARIABLE}=<base URL of a server holding them>, or '
                f'{DATA_VARIABLE}=<a folder with models/ and images/>.') from err
    return folder


def main(argv=None):
    """``make test-data``: fetch the sample data once and say where it is."""
    try:
        folder = fetch()
    except DownloadError as err:
        print(f'test-data: {err}', file=sys.stderr)
        return 1
    print(f'test-data: {len(FILES)} files in {folder}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
