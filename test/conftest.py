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

"""Shared fixtures: test data location and a localhost-only ROS 2 context."""

import http.server
import importlib.util
import io
import os
from pathlib import Path
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zlib

from deeplab_ros.engine.downloads import CACHE_VARIABLE, MIRROR_VARIABLE
from deeplab_ros.engine.model_zoo import UNPINNED_VARIABLE
from deeplab_ros.engine.sample_data import cached_data, DATA_VARIABLE, find_data_dir
import pytest

REPO = Path(__file__).resolve().parents[1]
# This workspace's test data sits beside the repository; the package itself knows only
# the variable (and its download cache).
if (REPO.parent / 'shared' / 'data' / 'models').is_dir():
    os.environ.setdefault(DATA_VARIABLE, str(REPO.parent / 'shared' / 'data'))

# Must be set before any rclpy context exists, and inherited by the node
# processes the tests start: localhost only, one domain per test run.
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
os.environ.setdefault('PYTHONUNBUFFERED', '1')


# The Humble-Python stack has no rclpy (no Humble wheels): its tests of the node and the
# tools are left out, and said so at the end. Such a test is marked ``ros`` (a whole file
# with ``pytestmark = pytest.mark.ros``, read here before it is imported).
ROS = importlib.util.find_spec('rclpy') is not None
ROS_FILE_MARK = 'pytestmark = pytest.mark.ros'
NO_ROS = ('rclpy is not installed, so {count} test(s) of the node and the tools did not run '
          '(the Humble-Python stack tests the engine and the fallbacks)')
_without_ros = []
DATA = find_data_dir()
NO_DATA = ('the real models and photos were not found, so {count} test(s) that need them did '
           'not run: `make test-data` downloads them (about 7 MB, into '
           f'{cached_data()}; {MIRROR_VARIABLE} for a mirror), or set {DATA_VARIABLE}')
_deselected = []

# The run writes nothing under $HOME (downloads, extracted tarballs, Keras's keras.json):
# a temporary one, set before TensorFlow is imported and inherited by the processes the
# tests start. Test data found in the user's cache is still read there, by its path.
TEMPORARY_HOME = tempfile.mkdtemp(prefix='deeplab_ros-test-')
if DATA is not None and DATA == cached_data():
    os.environ[DATA_VARIABLE] = str(DATA)
os.environ[CACHE_VARIABLE] = os.path.join(TEMPORARY_HOME, 'cache')
os.environ['KERAS_HOME'] = os.path.join(TEMPORARY_HOME, 'keras')
# ROS's log files (~/.ros/log) and matplotlib's font cache (~/.cache, ~/.config) too.
os.environ['ROS_LOG_DIR'] = os.path.join(TEMPORARY_HOME, 'ros_log')
os.environ['MPLCONFIGDIR'] = os.path.join(TEMPORARY_HOME, 'matplotlib')


def pytest_ignore_collect(collection_path, config):
    """Without rclpy, a test file marked ``ros`` as a whole is not even imported."""
    if not ROS and collection_path.suffix == '.py' and collection_path.name.startswith('test_'):
        if ROS_FILE_MARK in collection_path.read_text(encoding='utf-8'):
            _without_ros.append(collection_path.name)
            return True
    return None


def _leave_out(config, items, unwanted, store):
    if unwanted:
        store.extend(unwanted)
        config.hook.pytest_deselected(items=unwanted)
        items[:] = [item for item in items if item not in unwanted]


def pytest_collection_modifyitems(config, items):
    """Leave out the tests that need what is missing (data, rclpy), and say so once (below)."""
    if not ROS:
        _leave_out(config, items, [i for i in items if i.get_closest_marker('ros')],
                   _without_ros)
    if DATA is None:
        _leave_out(config, items,
                   [i for i in items if 'data_dir' in getattr(i, 'fixturenames', ())],
                   _deselected)


def pytest_terminal_summary(terminalreporter):
    if _deselected:
        terminalreporter.write_line(NO_DATA.format(count=len(_deselected)), yellow=True)
    if _without_ros:
        terminalreporter.write_line(NO_ROS.format(count=len(_without_ros)), yellow=True)


@pytest.fixture(autouse=True)
def no_download_mirror(monkeypatch):
    """Download tests talk to their own servers, whatever mirror the user has set."""
    monkeypatch.delenv(MIRROR_VARIABLE, raising=False)


@pytest.fixture(scope='session')
def data_dir():
    """Real models and photos: $DEEPLAB_ROS_TEST_DATA, ../shared/data or the download cache."""
    return DATA


@pytest.fixture(scope='session')
def pascal_model(data_dir):
    """Path of Coral's uint8 DeepLab v3 MobileNetV2 PASCAL model."""
    return data_dir / 'models' / 'deeplabv3_mnv2_pascal_quant.tflite'


BIRD = 3  # the PASCAL class of the bird photo's bird


@pytest.fixture(scope='session')
def bird_bgr(data_dir):
    """Return the bird photo (513x513, BGR), mostly class BIRD to the PASCAL model."""
    import cv2
    return cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))


@pytest.fixture
def ros_context():
    """Yield a fresh rclpy context and shut it down after the test."""
    import rclpy
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


def png_declaring(width, height):
    """Return a tiny PNG whose header declares ``width`` x ``height`` (a bomb)."""
    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr)
            + chunk(b'IDAT', zlib.compress(b'\0' * 1024)) + chunk(b'IEND', b''))


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


@pytest.fixture
def unpinned_allowed(monkeypatch):
    """Let the zoo download a model that has no pinned checksum (the test serves it)."""
    monkeypatch.setenv(UNPINNED_VARIABLE, '1')


def wait_for(predicate, timeout):
    """Poll ``predicate`` until it is true or ``timeout`` s pass; return its last value."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def spin_until(node, predicate, timeout):
    """Spin ``node`` until ``predicate()`` is true; return its last value."""
    from rclpy.executors import SingleThreadedExecutor
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    deadline = time.monotonic() + timeout
    try:
        while not predicate() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        return predicate()
    finally:
        executor.remove_node(node)


def _foreground_signals():
    """Let the child take Ctrl-C as a foreground command does, even under a background job."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background shell job inherits SIG_IGN


_processes = []


def pytest_sessionfinish(session):
    """Kill what a failed test could not stop: it must not outlive the run or reach the next."""
    for process in _processes:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()
    shutil.rmtree(TEMPORARY_HOME, ignore_errors=True)


class RosProcess:
    """A ROS program in its own process, stopped with SIGINT like Ctrl-C."""

    def __init__(self, args, **kwargs):
        self.proc = subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, cwd=REPO, preexec_fn=_foreground_signals, **kwargs)
        _processes.append(self)
        self._lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self):
        return ''.join(self._lines)

    def wait_for_output(self, text, timeout=20):
        """Wait until ``text`` appears in the output (or the process ends)."""
        deadline = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                break
            time.sleep(0.05)
        return text in self.output

    def stop(self, timeout=15):
        """Send SIGINT, wait, and return (exit code, combined output)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode, self.output


@pytest.fixture
def ros_process():
    """Start ROS programs in child processes; every one is stopped at teardown."""
    started = []

    def start(args, **kwargs):
        process = RosProcess(args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class Server:
    """
    Serves ``files`` (path -> bytes), and misbehaves by path prefix, within bounds.

    '/cut/' promises twice the bytes it sends; '/chunked-cut/' sends one chunk of a
    chunked body and drops the connection; '/bad-length/' sends a malformed
    Content-Length; '/trickle/' sends a byte every 0.2 s (at most 100); '/endless/'
    streams zeros with no length (at most 64 MB), each until the client leaves.
    """

    def __init__(self):
        self.files = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (the http.server API's name)
                server.requests.append(self.path)
                for prefix, misbehave in ((b'/chunked-cut/', self._chunked_cut),
                                          (b'/bad-length/', self._bad_length),
                                          (b'/trickle/', self._trickle),
                                          (b'/endless/', self._endless)):
                    if self.path.encode().startswith(prefix):
                        try:
                            misbehave()
                        except OSError:  # the client left: that is the point
                            pass
                        return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                promised = len(body) * 2 if self.path.startswith('/cut/') else len(body)
                self.send_header('Content-Length', str(promised))
                self.end_headers()
                self.wfile.write(body)

            def _chunked_cut(self):
                self.send_response(200)
                self.send_header('Transfer-Encoding', 'chunked')
                self.end_headers()
                self.wfile.write(b'400\r\n' + b'x' * 1024 + b'\r\n' + b'400\r\nxx')
                self.wfile.flush()
                self.close_connection = True

            def _bad_length(self):
                self.send_response(200)
                self.send_header('Content-Length', '12 bytes')
                self.end_headers()
                self.wfile.write(b'x' * 12)

            def _trickle(self):
                self.send_response(200)
                self.send_header('Content-Length', '100')
                self.end_headers()
                for _ in range(100):
                    self.wfile.write(b'x')
                    self.wfile.flush()
                    time.sleep(0.2)

            def _endless(self):
                self.send_response(200)
                self.end_headers()
                for _ in range(1024):
                    self.wfile.write(b'\0' * 65536)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_port}/'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def free_port():
    """Return a port on 127.0.0.1 that nobody listens on (an offline server)."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    """Run a local HTTP server on 127.0.0.1 serving what the test puts in ``files``."""
    running = Server()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()
