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
The test side of node tests: a camera publisher and output subscribers in one node.

It runs in the test process with its own rclpy context and spins in a
background thread, while the node under test runs in a child process.
"""

import contextlib
import faulthandler
import sys
import threading
import time

from conftest import RosProcess, wait_for
from deeplab_ros.node.image_outputs import OUTPUT_NAMES
from deeplab_ros.ros.image_encoding import array_to_image
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
import rclpy
from rclpy.exceptions import InvalidHandle
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import String

OUTPUTS = OUTPUT_NAMES
HARNESS_TIMEOUT = 30.0  # seconds for the harness to start or close


def bounded(timeout, what, work):
    """
    Run ``work()`` in a thread for at most ``timeout`` s; past that, dump every stack and fail.

    rclpy and DDS calls here cannot be interrupted: one that never returns
    would hang the whole suite instead of failing the test that met it.
    """
    failure = []

    def run():
        try:
            work()
        except BaseException as err:  # noqa: B902  raised again in the caller
            failure.append(err)

    worker = threading.Thread(target=run, name=what, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        faulthandler.dump_traceback(all_threads=True)
        raise AssertionError(f'{what} did not end in {timeout:.0f} s (every stack is above)')
    if failure:
        raise failure[0]


@contextlib.contextmanager
def clean_exit(process):
    """Yield ``process``; on leaving, stop it (SIGINT): it must exit 0 with no traceback."""
    try:
        yield process
    finally:
        code, output = process.stop()
        # Shown by pytest when the test fails: the node's own account of what happened.
        sys.stderr.write(f'--- the node process (exit {code}) ---\n{output}')
    assert code == 0 and 'Traceback' not in output, output


@contextlib.contextmanager
def harnessed(node, name, **harness_options):
    """Yield a Harness for node process ``node``; on leaving, both end (see ``clean_exit``)."""
    with clean_exit(node):
        harness = Harness(name, **harness_options)
        try:
            yield harness
        finally:
            harness.close()


@contextlib.contextmanager
def running_node(model, *params, name, extra=(), **harness_options):
    """Yield (node process, Harness), the node on /<name>/camera (see ``harnessed``)."""
    node = start_node(model, *params, name=name, image=f'/{name}/camera', extra=extra)
    with harnessed(node, name, image=f'/{name}/camera', **harness_options) as harness:
        yield node, harness


def start_node(model, *params, name='deeplab', image='image', extra=()):
    """
    Start ``deeplab_node`` in a child process with ``-p`` parameters (and ``extra`` args).

    The caller stops it through ``clean_exit`` (or ``harnessed``), which checks its exit.
    """
    args = ['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-r', f'__node:={name}',
            '-r', f'image:={image}', '-p', f'model_path:={model}', *extra]
    for param in params:
        args += ['-p', param]
    process = RosProcess(args)
    assert process.wait_for_output('model ', timeout=60), process.stop()[1]
    return process


class Harness:
    """Publishes camera frames on ``image`` and records everything the node sends."""

    def __init__(self, node_name='deeplab', reliability=ReliabilityPolicy.RELIABLE,
                 compressed=False, image='image', outputs=OUTPUTS):
        self.context = rclpy.Context()
        bounded(HARNESS_TIMEOUT, 'starting the test harness', self._init)
        self.received = {name: [] for name in OUTPUTS}
        self.diagnostics = []
        self._lock = threading.Lock()
        topic_type = CompressedImage if compressed else Image
        self.publisher = self.node.create_publisher(
            topic_type, image + '/compressed' if compressed else image,
            QoSProfile(depth=1, reliability=reliability))
        for output in outputs:
            self.node.create_subscription(
                Image, f'/{node_name}/{output}', self._recorder(self.received[output]),
                QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        self.node.create_subscription(DiagnosticArray, '/diagnostics',
                                      self._recorder(self.diagnostics), 10)
        self.param_client = self.node.create_client(SetParameters,
                                                    f'/{node_name}/set_parameters')
        self.atomic_client = self.node.create_client(
            SetParametersAtomically, f'/{node_name}/set_parameters_atomically')
        self.change_state_client = self.node.create_client(ChangeState,
                                                           f'/{node_name}/change_state')
        self.get_state_client = self.node.create_client(GetState, f'/{node_name}/get_state')
        self.node_name = node_name
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._answering = False
        self._closing = False
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def _init(self):
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('harness', context=self.context)

    def _spin(self):
        try:
            self.executor.spin()
        except InvalidHandle:  # rclpy's guard condition, destroyed by shutdown(): harmless then
            if not self._closing:
                raise

    def _recorder(self, store):
        def record(msg):
            with self._lock:
                store.append(msg)
        return record

    def close(self):
        """Stop spinning, then destroy the node and the context, in that order."""
        self._closing = True
        bounded(HARNESS_TIMEOUT, 'closing the test harness', self._close)

    def _close(self):
        self.executor.shutdown(timeout_sec=5.0)
        self._spinner.join(timeout=5.0)  # Jazzy's shutdown() does not wait for spin()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    def frame(self, array, encoding, frame_id, step=None):
        """Build a stamped Image message; ``step`` pads rows with junk bytes."""
        msg = array_to_image(array, encoding)
        if step is not None and step != msg.step:
            rows = bytes(msg.data)
            padding = b'\xab' * (step - msg.step)
            msg.data = b''.join(rows[r * msg.step:(r + 1) * msg.step] + padding
                                for r in range(msg.height))
            msg.step = step
        msg.header.frame_id = frame_id
        msg.header.stamp = self.node.get_clock().now().to_msg()
        return msg

    def outputs_for(self, frame_id, wanted=('label_map',)):
        with self._lock:
            found = {name: [m for m in self.received[name] if m.header.frame_id == frame_id]
                     for name in wanted}
        return {name: msgs[-1] for name, msgs in found.items() if msgs}

    def send(self, msg, wanted=('label_map',), timeout=20.0, period=0.5):
        """Publish ``msg`` every ``period`` s until every ``wanted`` output has answered it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.publisher.publish(msg)
            end = min(deadline, time.monotonic() + period)
            while time.monotonic() < end:
                got = self.outputs_for(msg.header.frame_id, wanted)
                if len(got) == len(wanted):
                    return got
                time.sleep(0.02)
        raise AssertionError(f'no {wanted} for frame {msg.header.frame_id!r} in {timeout} s; '
                             f'got {list(self.outputs_for(msg.header.frame_id, wanted))}')

    def wait_for_subscriber(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while self.publisher.get_subscription_count() == 0:
            assert time.monotonic() < deadline, 'the node never subscribed to image'
            time.sleep(0.05)

    def call(self, client, request, timeout=60.0):
        """Call a service of the node and return the response."""
        assert client.wait_for_service(timeout_sec=10), client.srv_name
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert future.done(), f'{client.srv_name} did not answer in {timeout} s'
        return future.result()

    def wait_until_answering(self, timeout=60.0):
        """
        Return once the node has answered a get_state (asked again until it does).

        A request sent in the instant a service is discovered can be lost (its reply
        path not yet matched): the first answer, to a harmless query, shows that both
        directions are up before a transition, which must not be asked twice.
        """
        if self._answering:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get_state_client.wait_for_service(timeout_sec=1.0):
                future = self.get_state_client.call_async(GetState.Request())
                if wait_for(future.done, 2.0):
                    self._answering = True
                    return
        raise AssertionError(f'/{self.node_name} never answered get_state in {timeout} s')

    def set_parameters(self, atomic=False, **values):
        """Set the node's parameters; return the SetParametersResult list (one if atomic)."""
        self.wait_until_answering()
        client = self.atomic_client if atomic else self.param_client
        parameters = [Parameter(k, value=v).to_parameter_msg() for k, v in values.items()]
        response = self.call(client, client.srv_type.Request(parameters=parameters))
        return [response.result] if atomic else response.results

    def transition(self, label):
        """Ask the node for a lifecycle transition by label; return its success."""
        self.wait_until_answering()
        request = ChangeState.Request(transition=Transition(label=label))
        return self.call(self.change_state_client, request).success

    def state(self):
        return self.call(self.get_state_client, GetState.Request()).current_state.label

    def status(self, timeout=5.0):
        """Return (level, message, values) of the node's next /diagnostics status."""
        name = f'/{self.node_name}: segmentation'
        seen = len(self.diagnostics)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                fresh = [s for array in self.diagnostics[seen:] for s in array.status
                         if s.name == name]
            if fresh:
                level = fresh[-1].level  # a byte: 0 OK, 1 WARN, 2 ERROR
                return (level[0] if isinstance(level, bytes) else level, fresh[-1].message,
                        {kv.key: kv.value for kv in fresh[-1].values})
            time.sleep(0.05)
        raise AssertionError(f'no /diagnostics from {name} in {timeout} s')

    def publishes_nothing(self, reports=2):
        """
        Tell whether no label map came while the node sent its next ``reports`` statuses.

        Its own count (frames_published, once it is configured) must stay put as well:
        the window is the node's diagnostics period, not a sleep here.
        """
        first = self.status()[2].get('frames_published')
        before = len(self.received['label_map'])
        for _ in range(reports):
            last = self.status()[2].get('frames_published')
        return first == last and len(self.received['label_map']) == before

    def wait_for_outputs(self, count, timeout=20.0, output='label_map'):
        """Wait until ``count`` more ``output`` messages arrive; return how many did."""
        before = len(self.received[output])
        deadline = time.monotonic() + timeout
        while len(self.received[output]) - before < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.received[output]) - before

    def wait_for_status(self, predicate, timeout=20.0):
        """Return the first (level, message, values) with ``predicate(...)`` true, or fail."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.status(timeout=max(2.5, deadline - time.monotonic()))
            except AssertionError:  # none in that time: the deadline decides
                continue
            if predicate(*last):
                return last
        raise AssertionError(f'/diagnostics never said what was expected; last: {last}')

    def latched_labels(self, timeout=10.0):
        """Subscribe to ~/labels now (a late joiner) and return the first message."""
        got = []
        qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(String, f'/{self.node_name}/labels', got.append, qos)
        deadline = time.monotonic() + timeout
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        return got[0] if got else None


class Camera:
    """
    Publishes ``frame`` through ``harness`` every ``period`` s until stopped (or its block ends).

    Frame ids count up from f0; ``encoding`` is what the message claims (its data is bgr8).
    """

    def __init__(self, harness, frame, encoding='bgr8', period=0.1):
        self.harness, self.frame, self.encoding, self.period = harness, frame, encoding, period
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.period):
            msg = self.harness.frame(self.frame, 'bgr8', f'f{self.sent}')
            msg.encoding = self.encoding
            self.harness.publisher.publish(msg)
            self.sent += 1

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# Depth cameras -------------------------------------------------------------------

FX, FY = 420.0, 430.0


def depth_scene(height, width, encoding):
    depth = np.full((height, width), 2.0, np.float32)
    depth[height // 4:height // 2, width // 4:width // 2] = 1.0
    depth[:8] = 0.0          # no reading
    depth[8:16] = 25.0       # beyond max_depth (10 m)
    if encoding == '32FC1':
        depth[16:24] = np.nan
        return depth, depth
    return depth, (np.nan_to_num(depth) * 1000).astype(np.uint16)


CLOUD_RIG_OUTPUTS = ('label_map', 'overlay')


@contextlib.contextmanager
def cloud_node(model, *params, name):
    """Yield (node process, CloudRig): cloud on, every input under /<name>/ (see harnessed)."""
    remaps = ['-r', f'depth:=/{name}/depth', '-r', f'camera_info:=/{name}/camera_info']
    with running_node(model, 'cloud:=true', *params, name=name, extra=remaps,
                      outputs=CLOUD_RIG_OUTPUTS) as (node, harness):
        yield node, CloudRig(harness)


class CloudRig:
    """A harness (of CLOUD_RIG_OUTPUTS) plus depth, camera_info and ~/points (on demand)."""

    def __init__(self, harness):
        self.harness, self.name = harness, harness.node_name
        node = harness.node
        reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        self.depth_pub = node.create_publisher(Image, f'/{self.name}/depth', reliable)
        self.info_pub = node.create_publisher(CameraInfo, f'/{self.name}/camera_info', reliable)
        self.clouds, self.compressed = [], {}
        self._lock = threading.Lock()

    def subscribe_points(self):
        self.harness.node.create_subscription(
            PointCloud2, f'/{self.name}/points', self._keep(self.clouds),
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))

    def subscribe_compressed(self, output):
        self.compressed[output] = []
        self.harness.node.create_subscription(
            CompressedImage, f'/{self.name}/{output}/compressed',
            self._keep(self.compressed[output]),
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))

    def _keep(self, store):
        def keep(msg):
            with self._lock:
                store.append(msg)
        return keep

    def camera_info(self, width, height):
        msg = CameraInfo(width=width, height=height)
        msg.k = [FX, 0.0, (width - 1) / 2, 0.0, FY, (height - 1) / 2, 0.0, 0.0, 1.0]
        return msg

    def depth_msg(self, array, encoding, stamp, frame_id='depth_optical'):
        msg = Image(height=array.shape[0], width=array.shape[1], encoding=encoding,
                    step=array.shape[1] * array.itemsize, data=array.tobytes())
        # Copied, not shared: a shared Time would move the color frame's stamp with it.
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp.sec, stamp.nanosec
        msg.header.frame_id = frame_id
        return msg

    def cloud_for(self, color, depth=None, info=None, offset_ns=0, timeout=15.0,
                  expect=True):
        """
        Send depth (stamped color + offset), camera_info and color until a cloud comes.

        ``expect`` false: keep sending for all of ``timeout`` (the verdict of the last
        frame is then this frame's), and return None if no cloud came.
        """
        stamp = color.header.stamp
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if info is not None:
                self.info_pub.publish(info)
            if depth is not None:
                shifted = stamp.sec * 10**9 + stamp.nanosec + offset_ns
                depth.header.stamp.sec, depth.header.stamp.nanosec = divmod(shifted, 10**9)
                self.depth_pub.publish(depth)
            self.harness.publisher.publish(color)
            end = min(deadline, time.monotonic() + 0.5)
            while time.monotonic() < end:
                with self._lock:
                    found = [c for c in self.clouds if c.header.stamp == stamp]
                if found:
                    return found[-1]
                time.sleep(0.02)

        assert not expect, f'no cloud for {color.header.frame_id} in {timeout} s'
        return None
