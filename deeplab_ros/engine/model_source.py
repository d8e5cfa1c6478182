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
Step one of loading a model: turn what the user gave into a local model file or folder.

A user gives a zoo name (downloaded once), a model zoo tarball (extracted
once into the cache), a SavedModel folder, a frozen graph .pb or a
.tflite file. resolve returns a ModelFile: the path to load,
its format, and the zoo entry it came from, if any. model_loading then
loads it by that format.
"""

from dataclasses import dataclass
from pathlib import Path
import stat

from deeplab_ros.engine import downloads, model_zoo, sample_data

FROZEN_GRAPH = 'frozen_inference_graph.pb'
TARBALL_SUFFIXES = ('.tar.gz', '.tgz')
# Far above any DeepLab model (the largest zoo tarball is 439 MB; protobuf cannot parse a
# graph over 2 GiB): a bigger file is a mistake, refused before it is read.
MAX_MODEL_BYTES = 1 << 30
MAX_TARBALL_BYTES = 4 << 30


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message names the file and the fix."""


@dataclass(frozen=True)
class ModelFile:
    """A model on disk, ready to load: format is saved_model, frozen_graph or tflite."""

    path: Path
    format: str  # noqa: A003  (the field's plain name; nothing here uses the builtin)
    origin: Path                    # what was given or downloaded (a tarball, say)
    zoo_entry: model_zoo.ZooModel = None


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
    folder = downloads.cache_dir(cache) / 'extracted' / f'{stem}-{stat.st_size}'
    return find_frozen_graph(downloads.extract_tarball(tarball, folder))


def local_copy(entry, cache=None):
    """Return a copy of zoo model ``entry`` already on this machine (its pin checked), or None."""
    pin = model_zoo.PINNED.get(entry.file_name, (None,))[0]
    for folder in [*sample_data.model_folders(cache), downloads.cache_dir(cache)]:
        path = folder / entry.file_name
        if path.is_file() and (pin is None or downloads.sha256_of(path) == pin):
            return path
    return None


def local_path(model, cache=None):
    """Turn a path or zoo name into a local path (a local copy, else downloaded once)."""
    path = Path(str(model)).expanduser()
    if path.exists():
        return path
    if str(model) in model_zoo.ZOO:
        found = local_copy(model_zoo.ZOO[str(model)], cache)
        if found is not None:
            return found
        try:
            return model_zoo.fetch(str(model), cache=cache)
        except downloads.DownloadError as err:
            raise ModelLoadError(str(err)) from err
    raise ModelLoadError(f"model '{model}' is neither an existing file or folder nor a zoo "
                         f"name; zoo names: {', '.join(sorted(model_zoo.ZOO))}")


def resolve(model, cache=None):
    """Return the ``ModelFile`` for a zoo name, tarball, SavedModel folder, .pb or .tflite."""
    origin = local_path(model, cache)
    entry = model_zoo.entry_for_file(origin.name)
    if origin.is_dir():
        if not (origin / 'saved_model.pb').is_file():
            raise ModelLoadError(f'{origin} is a folder without saved_model.pb; give a '
                                 'SavedModel folder, a .pb, a .tar.gz or a .tflite file')
        return ModelFile(origin, 'saved_model', origin, entry)
    info = origin.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ModelLoadError(f'{origin} is not a regular file (a device, FIFO or socket); give '
                             'a model file or folder')
    if info.st_size == 0:
        raise ModelLoadError(f'{origin} is empty (0 bytes); download it again')
    tarball = origin.name.endswith(TARBALL_SUFFIXES)
    limit = MAX_TARBALL_BYTES if tarball else MAX_MODEL_BYTES
    if info.st_size > limit:
        raise ModelLoadError(f'{origin} is {info.st_size} bytes, over the {limit >> 30} GiB a '
                             f'{"model zoo tarball" if tarball else "DeepLab model file"} can '
                             'be here; is it the right file?')
    if tarball:
        try:
            graph = tarball_graph(origin, cache)
        except (ValueError, downloads.DownloadError) as err:
            raise ModelLoadError(str(err)) from err
        except OSError as err:
            raise ModelLoadError(f'cannot extract {origin} into the model cache '
                                 f'{downloads.cache_dir(cache)}: {err}; set '
                                 f'{downloads.CACHE_VARIABLE} to a writable folder') from err
        return ModelFile(graph, 'frozen_graph', origin, entry)
    with open(origin, 'rb') as handle:
        head = handle.read(8)
    if head[4:8] == b'TFL3' or origin.suffix == '.tflite':
        return ModelFile(origin, 'tflite', origin, entry)
    return ModelFile(origin, 'frozen_graph', origin, entry)
