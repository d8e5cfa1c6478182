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

"""colcon build of a clone's files installs every launch, config and script where ROS looks."""

import importlib.metadata
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from lint_paths import REPO
import pytest

pytest.importorskip('colcon_core', reason='colcon is not installed: pip install '
                    'colcon-common-extensions (in any venv that runs the tests)')


def tracked_files():
    """Return the repository's files that a clone has (the work tree's version of each)."""
    listed = subprocess.run(['git', 'ls-files', '-z'], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split('\0')
    return [name for name in listed if name and (REPO / name).is_file()]


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """Lay out a colcon workspace with the tracked files in src/deeplab_ros."""
    root = tmp_path_factory.mktemp('ws')
    for name in tracked_files():
        (root / 'src' / 'deeplab_ros' / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / 'src' / 'deeplab_ros' / name)
    return root


def setuptools_major():
    return int(importlib.metadata.version('setuptools').split('.')[0])


@pytest.mark.parametrize('symlink', [False, True], ids=['copy', 'symlink-install'])
def test_install_tree_after_colcon_build(workspace, symlink):
    if symlink and setuptools_major() >= 80:
        pytest.skip('colcon --symlink-install needs setuptools < 80 (`setup.py develop '
                    '--editable` is gone: colcon/colcon-core#696)')
    install = workspace / ('install-symlink' if symlink else 'install')
    build = subprocess.run(
        [sys.executable, '-m', 'colcon', '--log-base', f'{install}-log', 'build',
         '--base-paths', 'src', '--build-base', f'{install}-build', '--install-base',
         str(install), *(['--symlink-install'] if symlink else [])],
        cwd=workspace, capture_output=True, text=True, timeout=300)
    output = build.stdout + build.stderr  # colcon repeats the package's stderr here
    assert build.returncode == 0, output
    assert 'Unknown distribution option' not in output  # tests_require in setuptools >= 72
    prefix = install / 'deeplab_ros'
    share = prefix / 'share' / 'deeplab_ros'
    for folder in ('launch', 'config'):
        assert sorted(p.name for p in (share / folder).iterdir()) == sorted(
            name.split('/')[1] for name in tracked_files() if name.startswith(folder + '/'))
    assert (share / 'package.xml').read_bytes() == (REPO / 'package.xml').read_bytes()
    license_file = ET.parse(share / 'package.xml').getroot().find('license').get('file')
    assert (share / license_file).read_text().split()[:2] == ['Apache', 'License']
    assert (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
            / 'deeplab_ros').is_file()
    scripts = re.findall(r"'([\w-]+) = deeplab_ros\.", (REPO / 'setup.py').read_text())
    assert sorted(p.name for p in (prefix / 'lib' / 'deeplab_ros').iterdir()) == sorted(scripts)
    if not symlink:  # a symlink install links the source folder instead (an egg-link)
        packages = {p.parent.name for p in prefix.glob(
            'lib/python3*/site-packages/deeplab_ros/**/__init__.py')}
        assert packages == {'deeplab_ros', 'engine', 'node', 'tools'}
