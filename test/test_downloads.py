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
Downloads against a local HTTP server on 127.0.0.1, and safe tarball extraction.

The cache, checked and atomic files, the mirror; every failure in one line
with the URL and the offline advice.
"""

import errno
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import time

from conftest import tarball_bytes
from deeplab_ros.engine import downloads, model_zoo
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
import pytest


def test_cache_dir_follows_xdg_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv('DEEPLAB_ROS_CACHE', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert downloads.cache_dir() == tmp_path / 'deeplab_ros'
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', str(tmp_path / 'mine'))
    assert downloads.cache_dir() == tmp_path / 'mine'
    assert downloads.cache_dir(tmp_path / 'arg') == tmp_path / 'arg'


def test_a_corrupted_cached_file_is_fetched_again(server, tmp_path):
    server.files['/m/f.bin'] = b'good content'
    pin = hashlib.sha256(b'good content').hexdigest()
    (tmp_path / 'f.bin').write_bytes(b'bad content!')
    assert downloads.download(server.url + 'm/f.bin', tmp_path / 'f.bin', progress=None,
                              sha256=pin).read_bytes() == b'good content'
    assert server.requests == ['/m/f.bin']


def test_download_once_then_reuse(server, tmp_path, monkeypatch, unpinned_allowed):
    server.files['/models/tiny.tflite'] = b'x' * 3_000_000
    entry = model_zoo.ZooModel('tiny', 'tiny.tflite', 'pascal', 513, '-', server.url + 'models/')
    monkeypatch.setitem(model_zoo.ZOO, 'tiny', entry)
    progress = io.StringIO()
    path = model_zoo.fetch('tiny', cache=tmp_path, progress=progress)
    assert path == tmp_path / 'tiny.tflite' and path.read_bytes() == b'x' * 3_000_000
    assert 'Downloading ' + entry.url in progress.getvalue()
    assert '3.0 / 3.0 MB' in progress.getvalue()
    assert model_zoo.fetch('tiny', cache=tmp_path, progress=None) == path
    assert server.requests == ['/models/tiny.tflite']


def test_interrupted_download_leaves_no_file(server, tmp_path):
    server.files['/cut/model.tar.gz'] = b'y' * 5000
    with pytest.raises(downloads.DownloadError, match='cut off|cannot download'):
        downloads.download(server.url + 'cut/model.tar.gz', tmp_path / 'model.tar.gz',
                           progress=None)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_names_url_and_manual_placement(tmp_path, free_port):
    url = f'http://127.0.0.1:{free_port}/m.tar.gz'
    with pytest.raises(downloads.DownloadError) as error:
        downloads.download(url, tmp_path / 'm.tar.gz', progress=None)
    text = str(error.value)
    assert url in text and f'place it at {tmp_path / "m.tar.gz"}' in text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('members, message', [
    ({'../evil.pb': b'x'}, 'would land outside'),
    ({'/etc/evil.pb': b'x'}, 'would land outside'),
    ({'model/frozen_inference_graph.pb': ('symlink', '/etc/passwd')}, 'is a link'),
])
def test_unsafe_tarballs_are_refused(tmp_path, members, message):
    tarball = tmp_path / 'evil.tar.gz'
    tarball.write_bytes(tarball_bytes(members))
    with pytest.raises(ValueError, match=message):
        downloads.extract_tarball(tarball, tmp_path / 'out')
    assert not (tmp_path / 'out').exists() and not (tmp_path.parent / 'evil.pb').exists()
    with pytest.raises(ModelLoadError, match=message):
        load_model(tarball, cache=tmp_path / 'cache')


def test_the_loser_of_an_extraction_race_uses_the_winners_result(tmp_path, monkeypatch):
    tarball = tmp_path / 'model.tar.gz'
    tarball.write_bytes(tarball_bytes({'model/frozen_inference_graph.pb': b'graph'}))
    destination = tmp_path / 'out'
    real_extract = tarfile.TarFile.extractall

    def winner_first(self, path, *args, **kwargs):
        real_extract(self, path, *args, **kwargs)
        real_extract(self, destination, *args, **kwargs)  # the other process finishes first
    monkeypatch.setattr(tarfile.TarFile, 'extractall', winner_first)
    assert downloads.extract_tarball(tarball, destination) == destination
    assert (destination / 'model' / 'frozen_inference_graph.pb').read_bytes() == b'graph'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('out.')] == []


@pytest.mark.parametrize('cache', ['/sys/kernel', 'under_a_file/cache'])
def test_an_unwritable_cache_is_one_line_naming_the_variable(tmp_path, cache, monkeypatch,
                                                             server, unpinned_allowed):
    if cache.startswith('under'):
        (tmp_path / 'under_a_file').write_bytes(b'a file, not a folder')
        cache = str(tmp_path / cache)
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', cache)
    server.files['/m/tiny.tflite'] = b'x'
    monkeypatch.setitem(model_zoo.ZOO, 'tiny', model_zoo.ZooModel(
        'tiny', 'tiny.tflite', 'pascal', 513, '-', server.url + 'm/'))
    with pytest.raises(ModelLoadError) as error:
        load_model('tiny')
    assert str(error.value).startswith(f'cannot write to the model cache {cache}: ')
    assert str(error.value).endswith('set DEEPLAB_ROS_CACHE to a writable folder')
    tarball = tmp_path / 'm.tar.gz'
    tarball.write_bytes(tarball_bytes({'frozen_inference_graph.pb': b'graph'}))
    with pytest.raises(ModelLoadError, match='cannot write to the model cache'):
        load_model(tarball)


def test_cache_files_and_folders_honour_the_umask(tmp_path, server):
    server.files['/m/f.bin'] = b'data'
    tarball = tmp_path / 'm.tar.gz'
    tarball.write_bytes(tarball_bytes({'frozen_inference_graph.pb': b'graph'}))
    old = os.umask(0o022)
    try:
        path = downloads.download(server.url + 'm/f.bin', tmp_path / 'c' / 'f.bin',
                                  progress=None)
        folder = downloads.extract_tarball(tarball, tmp_path / 'c' / 'x')
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert folder.stat().st_mode & 0o777 == 0o755


def test_the_mirror_serves_every_download_by_file_name(tmp_path, server, monkeypatch):
    server.files['/mirror/deeplabv3_mnv2_pascal_quant.tflite'] = b'model bytes'
    monkeypatch.setenv('DEEPLAB_ROS_DOWNLOAD_MIRROR', server.url + 'mirror/')
    assert downloads.source_url(model_zoo.ZOO['xception_coco_voctrainaug'].url) == (
        server.url + 'mirror/deeplabv3_pascal_train_aug_2018_01_04.tar.gz')
    path = downloads.download('https://example.invalid/a/deeplabv3_mnv2_pascal_quant.tflite',
                              tmp_path / 'm.tflite', progress=None)
    assert path.read_bytes() == b'model bytes'
    assert server.requests == ['/mirror/deeplabv3_mnv2_pascal_quant.tflite']


def test_a_checksum_mismatch_lands_nothing(tmp_path, server):
    server.files['/m/f.bin'] = b'tampered'
    with pytest.raises(downloads.DownloadError, match='does not have the expected content'):
        downloads.download(server.url + 'm/f.bin', tmp_path / 'f.bin', progress=None,
                           sha256='0' * 64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.ros
@pytest.mark.parametrize('program, code', [
    (['-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
      '-p', 'model_name:=mobilenetv2_coco_voctrainaug'], 1),
    (['-m', 'deeplab_ros.tools.segment_cli', 'x.png',
      '--model', 'mobilenetv2_coco_voctrainaug'], 2),
])
def test_the_node_and_the_cli_name_an_unwritable_cache(program, code):
    # A model with no local copy (the pinned ones are in the test data): it must download.
    env = {**os.environ, 'DEEPLAB_ROS_CACHE': '/sys/kernel/deeplab',
           'DEEPLAB_ROS_ALLOW_UNPINNED': '1'}
    result = subprocess.run([sys.executable, *program], env=env, capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == code and 'Traceback' not in output, output
    assert ('cannot write to the model cache /sys/kernel/deeplab: ' in output
            and 'set DEEPLAB_ROS_CACHE to a writable folder' in output), output


ADVICE = 'If this machine is offline, fetch the file elsewhere and place it at'


def failure(call):
    with pytest.raises(downloads.DownloadError) as error:
        call()
    message = str(error.value)
    assert '\n' not in message
    return message


def test_a_dropped_chunked_connection_is_one_line(server, tmp_path):
    url = server.url + 'chunked-cut/m.tflite'
    message = failure(lambda: downloads.download(url, tmp_path / 'm.tflite', progress=None))
    assert message.startswith(f'cannot download {url}: IncompleteRead') and ADVICE in message
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_content_length_is_read_as_unknown(server, tmp_path):
    path = downloads.download(server.url + 'bad-length/f.bin', tmp_path / 'f.bin', progress=None)
    assert path.read_bytes() == b'x' * 12


def test_a_trickling_server_is_cut_off_by_the_deadline(server, tmp_path):
    started = time.monotonic()
    message = failure(lambda: downloads.download(server.url + 'trickle/f.bin', tmp_path / 'f.bin',
                                                 progress=None, deadline=1.0))
    assert time.monotonic() - started < 5.0
    assert 'it took over 1 s' in message and ADVICE in message
    assert list(tmp_path.iterdir()) == []           # no .part left behind


def test_an_endless_body_stops_at_the_pinned_size(server, tmp_path):
    message = failure(lambda: downloads.download(server.url + 'endless/m.tflite',
                                                 tmp_path / 'm.tflite', progress=None,
                                                 sha256='0' * 64, size=2_193_224))
    assert 'the server sent more than the 2193224 bytes pinned for it' in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('mirror, why', [
    ('http://[::1', 'ValueError'), ('htps://mirror.invalid', 'unknown url type')])
def test_malformed_mirrors_are_one_line(tmp_path, monkeypatch, mirror, why):
    monkeypatch.setenv('DEEPLAB_ROS_DOWNLOAD_MIRROR', mirror)
    message = failure(lambda: downloads.download('https://example.invalid/a/f.bin',
                                                 tmp_path / 'f.bin', progress=None))
    assert re.search(why, message) and message.startswith('cannot download ')


def test_a_mirror_may_be_a_plain_folder(tmp_path, monkeypatch):
    (tmp_path / 'served').mkdir()
    (tmp_path / 'served' / 'f.bin').write_bytes(b'from a folder')
    monkeypatch.setenv('DEEPLAB_ROS_DOWNLOAD_MIRROR', str(tmp_path / 'served'))
    path = downloads.download('https://example.invalid/a/f.bin', tmp_path / 'f.bin',
                              progress=None)
    assert path.read_bytes() == b'from a folder'


def test_a_full_disk_is_reported_as_a_full_disk(server, tmp_path, monkeypatch):
    server.files['/m/f.bin'] = b'x' * 1000
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(errno.ENOSPC, 'No space left on device')

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(downloads.os, 'fdopen', lambda fd, mode: Full(real_fdopen(fd, mode)))
    message = failure(lambda: downloads.download(server.url + 'm/f.bin', tmp_path / 'f.bin',
                                                 progress=None))
    assert message.startswith(f'no space left on the disk of {tmp_path} for ')
    assert 'Offline' not in message and list(tmp_path.iterdir()) == []
