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
A bare clone: sample data through a mirror on 127.0.0.1, the offline message, the lookup order.

The served files are made here (not the real models); their pins are
replaced by the test files' own checksums.
"""

import hashlib
import subprocess
import sys

from conftest import REPO
from deeplab_ros.engine import model_zoo, sample_data
from deeplab_ros.engine.downloads import DownloadError
import pytest


def test_an_unwritable_cache_is_not_offline_advice():
    with pytest.raises(DownloadError) as error:
        sample_data.fetch(cache='/sys/kernel/deeplab', progress=None)
    assert str(error.value).startswith('cannot write to the model cache /sys/kernel/deeplab')
    assert 'Offline' not in str(error.value) and 'Place' not in str(error.value)


@pytest.fixture
def fake_pins(monkeypatch):
    """Swap every pinned file for small made-up content with its own sha256."""
    contents = {name: f'content of {name}'.encode() for name in model_zoo.PINNED}
    monkeypatch.setattr(model_zoo, 'PINNED', {
        name: (hashlib.sha256(body).hexdigest(), len(body)) for name, body in contents.items()})
    monkeypatch.setattr(sample_data, 'PINNED', model_zoo.PINNED)
    return contents


def test_fetch_through_the_mirror_then_found_in_the_cache(server, fake_pins, tmp_path,
                                                          monkeypatch):
    for name, body in fake_pins.items():
        server.files[f'/mirror/{name}'] = body
    monkeypatch.setenv('DEEPLAB_ROS_DOWNLOAD_MIRROR', server.url + 'mirror')
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', str(tmp_path))
    monkeypatch.delenv('DEEPLAB_ROS_TEST_DATA', raising=False)
    assert sample_data.find_data_dir() is None
    folder = sample_data.fetch(progress=None)
    assert folder == tmp_path / 'sample_data'
    assert (folder / 'models' / 'deeplabv3_mnv2_pascal_quant.tflite').read_bytes() == \
        fake_pins['deeplabv3_mnv2_pascal_quant.tflite']
    assert (folder / 'images' / 'bird_segmentation.bmp').is_file()
    assert sample_data.find_data_dir() == folder
    requests = len(server.requests)
    sample_data.fetch(progress=None)  # once only
    assert len(server.requests) == requests == len(fake_pins)
    # A cached file corrupted since: that one file is fetched again.
    (folder / 'models' / 'deeplabv3_mnv2_pascal_quant.tflite').write_bytes(b'bit rot')
    sample_data.fetch(progress=None)
    again = server.requests[requests:]
    assert len(again) == 1 and again[0].endswith('/deeplabv3_mnv2_pascal_quant.tflite')
    assert (folder / 'models' / 'deeplabv3_mnv2_pascal_quant.tflite').read_bytes() == \
        fake_pins['deeplabv3_mnv2_pascal_quant.tflite']


def test_offline_without_mirror_or_cache_is_one_line_listing_the_files(tmp_path, monkeypatch,
                                                                       free_port):
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', str(tmp_path))
    monkeypatch.setenv('DEEPLAB_ROS_DOWNLOAD_MIRROR', f'http://127.0.0.1:{free_port}')
    result = subprocess.run([sys.executable, '-m', 'deeplab_ros.engine.sample_data'],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith('test-data:')]
    assert len(lines) == 1, result.stderr
    for name in model_zoo.PINNED:
        assert name in lines[0]
    assert f'{tmp_path}/sample_data/models' in lines[0]
    assert 'DEEPLAB_ROS_DOWNLOAD_MIRROR' in lines[0]


def test_lookup_order_env_then_cache(tmp_path, monkeypatch, fake_pins):
    (tmp_path / 'env' / 'models').mkdir(parents=True)
    monkeypatch.setenv('DEEPLAB_ROS_TEST_DATA', str(tmp_path / 'env'))
    assert sample_data.find_data_dir() == tmp_path / 'env'
    monkeypatch.delenv('DEEPLAB_ROS_TEST_DATA')
    monkeypatch.setenv('DEEPLAB_ROS_CACHE', str(tmp_path / 'cache'))
    assert sample_data.find_data_dir() is None  # an incomplete cache does not count
    for name, kind in sample_data.FILES.items():
        (tmp_path / 'cache' / 'sample_data' / kind).mkdir(parents=True, exist_ok=True)
        (tmp_path / 'cache' / 'sample_data' / kind / name).write_bytes(fake_pins[name])
    assert sample_data.find_data_dir() == tmp_path / 'cache' / 'sample_data'
    # Hardening II, 9: a corrupted cached file makes the cache incomplete (fetched again).
    model = tmp_path / 'cache' / 'sample_data' / 'models' / 'deeplabv3_mnv2_pascal_quant.tflite'
    model.write_bytes(b'corrupted')
    assert sample_data.find_data_dir() is None


def test_pins_cover_the_demo_files_and_the_coral_zoo_models():
    assert sample_data.DEMO_MODEL.split('/')[1] in model_zoo.PINNED
    assert set(sample_data.DEMO_PHOTOS) <= set(model_zoo.PINNED)
    coral = [m for m in model_zoo.ZOO.values() if m.base_url == model_zoo.CORAL_URL]
    assert len(coral) == 3 and all(m.file_name in model_zoo.PINNED for m in coral)
    assert len(model_zoo.CORAL_URL.rstrip('/').rsplit('/', 1)[1]) == 40  # a commit, not master
