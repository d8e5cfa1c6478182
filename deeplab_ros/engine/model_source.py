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

Nothing is opened before its type is checked, and every read is bounded: a
device, FIFO or socket given as the model is refused at once (a read of
/dev/zero never ends; opening a FIFO waits for a writer).
"""

from dataclasses import dataclass
import os
from pathlib import Path
import stat

from deeplab_ros.engine import downloads, model_zoo, sample_data

FROZEN_GRAPH = 'frozen_inference_graph.pb'
TARBALL_SUFFIXES = ('.tar.gz', '.tgz')
# Far above any DeepLab model (the largest zoo tarball is 439 MB; protobuf cannot parse a
# graph over 2 GiB): a bigger file is a mistake, refused before it is read.
MAX_MODEL_BYTES = 1 << 30
MAX_TARBALL_BYTES = 4 << 30
USE_INSTEAD = 'use a .tflite, frozen .pb, SavedModel folder or zoo .tar.gz'
# Files people give by mistake, by their first bytes.
NOT_MODELS = (
    (b'BM', 'a BMP image'), (b'\x89PNG', 'a PNG image'), (b'\xff\xd8\xff', 'a JPEG image'),
    (b'GIF8', 'a GIF image'), (b'II*\0', 'a TIFF image'), (b'MM\0*', 'a TIFF image'),
    (b'RIFF', 'a RIFF file (WebP, WAV or AVI)'), (b'PK\x03\x04', 'a zip archive'),
    (b'\x1f\x8b', 'a gzip file'), (b'%PDF', 'a PDF document'), (b'\x7fELF', 'a program (ELF)'),
    (b'\x89HDF', 'a Keras HDF5 file (export it as a SavedModel or .tflite)'),
)
# A GraphDef's first byte is the tag of its first field present: node, library, version
# or versions (protobuf writes fields in order).
GRAPH_DEF_TAGS = b'\x0a\x12\x18\x22'


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message names the file and the fix."""


@dataclass(frozen=True)
class ModelFile:
    """A model on disk, ready to load: format is saved_model, frozen_graph or tflite."""

    path: Path
    format: str  # noqa: A003  (the field's plain name; nothing here uses the builtin)
    origin: Path                    # what was given or downloaded (a tarball, say)
    zoo_entry: model_zoo.ZooModel = None


def _not_regular(path):
    return ModelLoadError(f'{path} is not a regular file (a device, FIFO or socket); give a '
                          'model file or folder')


def _open_regular(path):
    """
    Open ``path`` for reading if it is a regular file, else raise ``ModelLoadError``.

    Non-blocking, so a FIFO put there after the caller's stat cannot hang the open;
    the type is checked on the open descriptor itself.
    """
    try:
        handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), 'rb')
    except OSError as err:
        raise ModelLoadError(f'cannot open {path}: {err.strerror}') from err
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise _not_regular(path)
    return handle


def read_model_file(path, limit=MAX_MODEL_BYTES) -> bytes:
    """Return the bytes of model file ``path``: a regular file of at most ``limit`` bytes."""
    with _open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ModelLoadError(f'{path} is over the {limit >> 30} GiB a DeepLab model file can be '
                             'here; is it the right file?')
    return data


def _is_text(head):
    text = head.decode('utf-8', 'replace').rstrip('\ufffd')  # a character cut at the end
    return bool(text) and '\ufffd' not in text and all(
        c.isprintable() or c in '\t\n\r' for c in text)


def what_else(path, head):
    """Say what the file starting with ``head`` is when it is plainly not a model, else None."""
    path = Path(path)
    kind = next((kind for magic, kind in NOT_MODELS if head.startswith(magic)), None)
    if kind is None and _is_text(head):
        kind = 'a text file'
    if kind:
        return f'{path.name} is {kind}, not a model: {USE_INSTEAD}'
    if head[:1] not in GRAPH_DEF_TAGS and path.suffix != '.pb':
        return (f'{path.name} is neither a TFLite model (TFL3 at byte 4) nor a TensorFlow '
                f'graph (a GraphDef protobuf): {USE_INSTEAD}')
    return None


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
        raise _not_regular(origin)
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
    with _open_regular(origin) as handle:
        head = handle.read(512)
    if head[4:8] == b'TFL3' or origin.suffix == '.tflite':
        return ModelFile(origin, 'tflite', origin, entry)
    mistake = what_else(origin, head)
    if mistake:
        raise ModelLoadError(mistake)
    return ModelFile(origin, 'frozen_graph', origin, entry)
