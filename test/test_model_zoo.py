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

"""Zoo downloads against a local HTTP server on 127.0.0.1, and safe extraction."""

import http.server
import io
import socket
import tarfile
import threading

from deeplab_ros import model_zoo
from deeplab_ros.model_loading import load_model, ModelLoadError
import pytest


class Server:
    """Serves ``files`` (path -> bytes); '/cut/...' promises more bytes than it sends."""

    def __init__(self):
        self.files = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (the http.server API's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                promised = len(body) * 2 if self.path.startswith('/cut/') else len(body)
                self.send_header('Content-Length', str(promised))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_port}/'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def tarball_bytes(members):
    """Pack a .tar.gz holding ``members``: name -> bytes, or name -> ('symlink', target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_cache_dir_follows_xdg_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv('DEEPLAB_ROS_CACHE', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert model_zoo.cache_dir() == tmp_path / 'deeplab_ros'
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', str(tmp_path / 'mine'))
    assert model_zoo.cache_dir() == tmp_path / 'mine'
    assert model_zoo.cache_dir(tmp_path / 'arg') == tmp_path / 'arg'


def test_registry_covers_the_published_models():
    zoo = model_zoo.ZOO
    assert zoo['xception_coco_voctrainaug'].url == (
        'http://download.tensorflow.org/models/deeplabv3_pascal_train_aug_2018_01_04.tar.gz')
    assert zoo['xception_coco_voctrainval'].dataset == 'pascal'
    assert zoo['mobilenetv2_dm05_coco_voctrainaug'].input_size == 513
    assert {m.dataset for m in zoo.values()} == {'pascal', 'cityscapes', 'ade20k'}
    assert any('mnv3' in m.file_name for m in zoo.values())


def test_download_once_then_reuse(server, tmp_path, monkeypatch):
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
    with pytest.raises(model_zoo.DownloadError, match='cut off|cannot download'):
        model_zoo.download(server.url + 'cut/model.tar.gz', tmp_path / 'model.tar.gz',
                           progress=None)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_names_url_and_manual_placement(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(('127.0.0.1', 0))
        url = f'http://127.0.0.1:{probe.getsockname()[1]}/m.tar.gz'
    with pytest.raises(model_zoo.DownloadError) as error:
        model_zoo.download(url, tmp_path / 'm.tar.gz', progress=None)
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
        model_zoo.extract_tarball(tarball, tmp_path / 'out')
    assert not (tmp_path / 'out').exists() and not (tmp_path.parent / 'evil.pb').exists()
    with pytest.raises(ModelLoadError, match=message):
        load_model(tarball, cache=tmp_path / 'cache')


def test_tarball_without_graph(tmp_path):
    tarball = tmp_path / 'other.tar.gz'
    tarball.write_bytes(tarball_bytes({'x/readme.txt': b'hi'}))
    with pytest.raises(ModelLoadError, match='no frozen_inference_graph.pb inside'):
        load_model(tarball, cache=tmp_path / 'cache')


def test_zoo_name_downloads_and_loads(server, tmp_path, monkeypatch, pascal_model):
    server.files['/coral/deeplabv3_mnv2_pascal_quant.tflite'] = pascal_model.read_bytes()
    entry = model_zoo.ZooModel('mobilenetv2_pascal_quant_tflite',
                               'deeplabv3_mnv2_pascal_quant.tflite', 'pascal', 513, '-',
                               server.url + 'coral/')
    monkeypatch.setitem(model_zoo.ZOO, entry.name, entry)
    model = load_model(entry.name, cache=tmp_path)
    assert model.kind == 'tflite' and model.dataset == 'pascal'
    assert (tmp_path / 'deeplabv3_mnv2_pascal_quant.tflite').is_file()


def test_unreachable_zoo_model_is_a_load_error(tmp_path, monkeypatch):
    entry = model_zoo.ZooModel('gone', 'gone.tar.gz', 'pascal', 513, '-', 'http://127.0.0.1:9/')
    monkeypatch.setitem(model_zoo.ZOO, 'gone', entry)
    with pytest.raises(ModelLoadError, match='cannot download http://127.0.0.1:9/gone.tar.gz'):
        load_model('gone', cache=tmp_path)
