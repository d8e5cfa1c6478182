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
The zoo's models by name: pinned, a local copy first, downloaded and loaded, tarballs of graphs.

Downloads go to a local HTTP server on 127.0.0.1 (conftest's ``server``).
"""

import os
import re
import subprocess
import sys

from conftest import tarball_bytes
from deeplab_ros.engine import model_zoo, sample_data
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
import pytest


def test_registry_covers_the_published_models():
    zoo = model_zoo.ZOO
    assert zoo['xception_coco_voctrainaug'].url == (
        'https://download.tensorflow.org/models/deeplabv3_pascal_train_aug_2018_01_04.tar.gz')
    assert zoo['xception_coco_voctrainval'].dataset == 'pascal'
    assert zoo['mobilenetv2_dm05_coco_voctrainaug'].input_size == 513
    assert {m.dataset for m in zoo.values()} == {'pascal', 'cityscapes', 'ade20k'}
    assert any('mnv3' in m.file_name for m in zoo.values())


@pytest.fixture
def no_local_models(monkeypatch, tmp_path):
    """No model on this machine but what the test puts in its cache."""
    monkeypatch.delenv(sample_data.DATA_VARIABLE, raising=False)


def test_the_default_model_is_pinned_https_and_a_tflite():
    entry = model_zoo.ZOO[model_zoo.DEFAULT_MODEL]
    assert entry.file_name.endswith('.tflite') and entry.file_name in model_zoo.PINNED
    assert all(m.url.startswith('https://') for m in model_zoo.ZOO.values())


def test_an_unpinned_model_is_not_downloaded_without_the_opt_in(server, tmp_path, monkeypatch):
    monkeypatch.delenv(model_zoo.UNPINNED_VARIABLE, raising=False)
    server.files['/m/graph.tar.gz'] = b'anything'
    monkeypatch.setitem(model_zoo.ZOO, 'graph', model_zoo.ZooModel(
        'graph', 'graph.tar.gz', 'pascal', 513, '-', server.url + 'm/'))
    with pytest.raises(ModelLoadError) as error:
        load_model('graph', cache=tmp_path)
    assert str(error.value) == (
        f'graph ({server.url}m/graph.tar.gz) has no pinned sha256, so what is downloaded '
        'cannot be checked before it runs: set DEEPLAB_ROS_ALLOW_UNPINNED=1 to download it '
        'anyway, or fetch and check it yourself and pass its path as the model')
    assert server.requests == []


def test_zoo_names_use_a_local_copy_before_downloading(data_dir, tmp_path, server,
                                                       monkeypatch):
    monkeypatch.setenv(sample_data.DATA_VARIABLE, str(data_dir))
    monkeypatch.setitem(model_zoo.ZOO, 'mobilenetv2_pascal_quant_tflite', model_zoo.ZooModel(
        'mobilenetv2_pascal_quant_tflite', 'deeplabv3_mnv2_pascal_quant.tflite', 'pascal', 513,
        '-', server.url + 'never/'))
    model = load_model('mobilenetv2_pascal_quant_tflite', cache=tmp_path)
    assert model.file_format == 'tflite' and model.dataset == 'pascal' and server.requests == []
    # A copy that does not match its pin is not trusted: it is downloaded instead.
    bad = tmp_path / 'data' / 'models'
    bad.mkdir(parents=True)
    (bad / 'deeplabv3_mnv2_pascal_quant.tflite').write_bytes(b'corrupted')
    monkeypatch.setenv(sample_data.DATA_VARIABLE, str(tmp_path / 'data'))
    with pytest.raises(ModelLoadError, match='cannot download'):
        load_model('mobilenetv2_pascal_quant_tflite', cache=tmp_path / 'cache')
    assert server.requests == ['/never/deeplabv3_mnv2_pascal_quant.tflite']


def test_zoo_name_downloads_and_loads(server, tmp_path, monkeypatch, pascal_model,
                                      no_local_models):
    server.files['/coral/deeplabv3_mnv2_pascal_quant.tflite'] = pascal_model.read_bytes()
    entry = model_zoo.ZooModel('mobilenetv2_pascal_quant_tflite',
                               'deeplabv3_mnv2_pascal_quant.tflite', 'pascal', 513, '-',
                               server.url + 'coral/')
    monkeypatch.setitem(model_zoo.ZOO, entry.name, entry)
    model = load_model(entry.name, cache=tmp_path)
    assert model.file_format == 'tflite' and model.dataset == 'pascal'
    assert (tmp_path / 'deeplabv3_mnv2_pascal_quant.tflite').is_file()


def test_unreachable_zoo_model_is_a_load_error(tmp_path, monkeypatch, unpinned_allowed):
    entry = model_zoo.ZooModel('gone', 'gone.tar.gz', 'pascal', 513, '-', 'http://127.0.0.1:9/')
    monkeypatch.setitem(model_zoo.ZOO, 'gone', entry)
    with pytest.raises(ModelLoadError, match='cannot download http://127.0.0.1:9/gone.tar.gz'):
        load_model('gone', cache=tmp_path)


def test_tarball_without_graph(tmp_path):
    tarball = tmp_path / 'other.tar.gz'
    tarball.write_bytes(tarball_bytes({'x/readme.txt': b'hi'}))
    with pytest.raises(ModelLoadError, match='no frozen_inference_graph.pb inside'):
        load_model(tarball, cache=tmp_path / 'cache')


RACE = """
import sys
from deeplab_ros.engine import model_source
print(model_source.tarball_graph(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize('attempt', range(3))
def test_two_processes_extracting_one_tarball_both_succeed(tmp_path, attempt):
    tarball = tmp_path / 'model.tar.gz'
    # Large enough (incompressible) that both extractions overlap.
    tarball.write_bytes(tarball_bytes({
        'model/frozen_inference_graph.pb': b'graph',
        **{f'model/variables/{i}.bin': os.urandom(1 << 20) for i in range(6)}}))
    cache = tmp_path / 'cache'
    runs = [subprocess.Popen([sys.executable, '-c', RACE, str(tarball), str(cache)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [run.communicate(timeout=60) + (run.returncode,) for run in runs]
    for out, err, code in results:
        assert code == 0, err
        assert 'Traceback' not in err
    assert results[0][0] == results[1][0]
    assert len(list((cache / 'extracted').iterdir())) == 1  # no staging folder left


def test_tensorflow_start_up_noise_does_not_bury_the_error(tmp_path):
    model = tmp_path / 'bad.pb'
    model.write_bytes(b'\x0a\xffnot a graph\x00\x01')  # binary: only TensorFlow can tell
    result = subprocess.run([sys.executable, '-m', 'deeplab_ros.tools.segment_cli', 'x.png',
                             '--model', str(model)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    # One line; protobuf's own words differ by version (4.25: only "Error parsing message").
    [line] = result.stderr.splitlines()
    assert re.fullmatch(
        f'deeplab-segment: {re.escape(str(model))} is not a frozen TensorFlow graph '
        r'\(GraphDef\): Error parsing message[^;]*; download it again or check the file', line)
