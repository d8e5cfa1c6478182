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
One node, one model, several cameras: real DDS between processes, the real model.

Each camera gets its own photo; every output must carry its own camera's
image, labels, stamp and frame_id, and each camera keeps its share of the
model whatever the others do (flood, stop, send bad frames).
"""

import contextlib
import threading
import time

from conftest import BIRD, wait_for
import cv2
from deeplab_ros.engine.model_loading import load_model
from deeplab_ros.engine.segmenter import Segmenter
from deeplab_ros.node.image_outputs import OUTPUT_NAMES
from node_harness import clean_exit, Harness, start_node
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

pytestmark = pytest.mark.ros

CAMERAS = ('front', 'rear', 'side')
PHOTOS = {'front': 'bird_segmentation.bmp', 'rear': 'dog_segmentation.bmp',
          'side': 'cityscapes_segmentation.bmp'}
SIZE = (320, 240)  # fits the stock shared-memory transport at 10 Hz from three publishers


@pytest.fixture(scope='module')
def photos(data_dir):
    return {camera: cv2.resize(cv2.imread(str(data_dir / 'images' / name)), SIZE)
            for camera, name in PHOTOS.items()}


@pytest.fixture(scope='module')
def references(pascal_model, photos):
    segmenter = Segmenter(load_model(pascal_model))
    return {camera: segmenter.segment(photo, 'bgr') for camera, photo in photos.items()}


class Cameras:
    """Three camera publishers and every camera's label maps, on one test node."""

    def __init__(self, node_name):
        self.harness = Harness(node_name, image='unused', outputs=())
        node = self.harness.node
        reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        self.publishers = {c: node.create_publisher(Image, f'{c}/image', reliable)
                           for c in CAMERAS}
        self.sent = {c: {} for c in CAMERAS}       # camera -> {stamp: frame_id}
        self.labels = {c: [] for c in CAMERAS}     # camera -> label_map messages
        for camera in CAMERAS:
            node.create_subscription(Image, f'/{node_name}/{camera}/label_map',
                                     self.labels[camera].append,
                                     QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        self._stop = threading.Event()
        self._threads = []

    def wait_for_subscribers(self, timeout=30.0):
        assert wait_for(lambda: all(p.get_subscription_count() for p in
                                    self.publishers.values()), timeout), 'no subscription'

    def stream(self, camera, image, period, truncated=False):
        """Publish ``image`` on ``camera`` every ``period`` s until stopped (cut short: bad)."""
        def run():
            while not self._stop.is_set():
                msg = self.harness.frame(image, 'bgr8', f'{camera}_optical_frame')
                if truncated:
                    msg.data = bytes(msg.data[:1000])
                self.sent[camera][(msg.header.stamp.sec, msg.header.stamp.nanosec)] = camera
                self.publishers[camera].publish(msg)
                self._stop.wait(period)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._threads.append(thread)

    def counts(self):
        return {camera: len(msgs) for camera, msgs in self.labels.items()}

    def status(self, camera, timeout=5.0):
        """Return (level, message, values) of the next /diagnostics status of ``camera``."""
        name = f'/{self.harness.node_name}: {camera}'
        seen = len(self.harness.diagnostics)
        found = []
        assert wait_for(lambda: found.extend(
            s for a in self.harness.diagnostics[seen:] for s in a.status if s.name == name)
            or found, timeout), f'no status {name}'
        level = found[-1].level
        return (level[0] if isinstance(level, bytes) else level, found[-1].message,
                {kv.key: kv.value for kv in found[-1].values})

    def stop_streams(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._stop.clear()
        self._threads = []

    def close(self):
        self.stop_streams()
        self.harness.close()


@pytest.fixture
def three_cameras(pascal_model):
    """Start a node serving CAMERAS and its Cameras rig; each node must end cleanly."""
    with contextlib.ExitStack() as started:
        def start(node_name, *params):
            node = started.enter_context(clean_exit(start_node(
                pascal_model, 'cameras:=[front, rear, side]', *params, name=node_name)))
            rig = Cameras(node_name)
            started.callback(rig.close)
            rig.wait_for_subscribers()
            return node, rig
        yield start


def as_labels(msg):
    return np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width)


def test_each_camera_gets_its_own_photos_labels_and_stamps(three_cameras, photos, references):
    node, rig = three_cameras('trio')
    for camera in CAMERAS:
        rig.stream(camera, photos[camera], period=0.1)
    assert wait_for(lambda: min(rig.counts().values()) >= 30, 40), rig.counts()
    time.sleep(10.0 - 3.0)  # at least 10 s of streaming in all
    level, message, values = rig.status('front')
    assert values['input_topic'] == '/front/image' and 'segmenting at' in message
    rig.stop_streams()
    time.sleep(0.5)  # the last outputs arrive
    counts = rig.counts()
    assert min(counts.values()) >= 0.8 * max(counts.values()), counts   # equal shares
    for camera in CAMERAS:
        for msg in rig.labels[camera]:
            stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
            assert rig.sent[camera].get(stamp) == camera          # its own camera's stamp
            assert msg.header.frame_id == f'{camera}_optical_frame'
            assert np.array_equal(as_labels(msg), references[camera]), camera
    assert (references['front'] == BIRD).mean() > 0.1 and (references['rear'] == 12).mean() > 0.1
    output = node.output
    assert '/trio/rear/label_map' in output and '/trio/label_map,' not in output


def test_a_flooding_a_broken_and_a_stopping_camera_leave_the_others_their_share(
        three_cameras, photos):
    node, rig = three_cameras('crowd')
    rig.stream('front', photos['front'], period=0.02)                 # 50 Hz: floods
    rig.stream('rear', photos['rear'], period=0.2)                    # 5 Hz
    rig.stream('side', photos['side'], period=0.2, truncated=True)    # undecodable
    assert wait_for(lambda: len(rig.labels['rear']) >= 5, 40), rig.counts()
    before = len(rig.sent['rear']), len(rig.labels['rear']), len(rig.labels['front'])
    time.sleep(4.0)
    sent, got, flood = (len(rig.sent['rear']) - before[0], len(rig.labels['rear']) - before[1],
                        len(rig.labels['front']) - before[2])
    # Served in turn: the 5 Hz camera gets every frame it sends while the model is fast
    # enough, and as many as the flooding camera when it is not (a loaded machine).
    assert got >= 0.8 * min(sent, flood), (got, sent, flood)
    assert flood >= 0.8 * got, (got, flood)    # the flood takes the rest
    assert not rig.labels['side']
    level, message, values = rig.status('side')
    # Only bad frames: a warning, or the stall error naming them once it lasts.
    assert level in (1, 2) and ' bad' in message and int(values['bad_frames']) > 0, message
    assert rig.status('rear')[0] == 0
    # Now front stops: rear goes on, and front's status says so.
    rig.stop_streams()
    rig.stream('rear', photos['rear'], period=0.2)
    got_before = len(rig.labels['rear'])
    assert wait_for(lambda: len(rig.labels['rear']) - got_before >= 10, 20)
    level, message, _ = wait_status(rig, 'front', lambda lv, m, v: 'no frame from' in m)
    assert level == 1 and '/front/image' in message
    assert 'dropped a frame from /side/image' in node.output


def wait_status(rig, camera, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = rig.status(camera)
        if predicate(*last):
            return last
    raise AssertionError(f'{camera}: /diagnostics never said what was expected; last: {last}')


def test_lifecycle_cycles_with_three_cameras(three_cameras, photos):
    node, rig = three_cameras('cycler')
    for camera in CAMERAS:
        rig.stream(camera, photos[camera], period=0.2)
    for _ in range(2):
        assert wait_for(lambda: min(rig.counts().values()) >= 2, 30), rig.counts()
        assert rig.harness.transition('deactivate')
        quiet = rig.counts()
        time.sleep(1.0)
        assert rig.counts() == quiet                     # every camera stopped
        result = rig.harness.set_parameters(cameras=['front'])[0]
        assert not result.successful and 'ros2 lifecycle set' in result.reason
        assert rig.harness.transition('activate')        # every camera resumes
        for labels in rig.labels.values():
            labels.clear()
    assert wait_for(lambda: min(rig.counts().values()) >= 2, 30), rig.counts()


@pytest.mark.parametrize('cameras, expected', [
    ('[front, front]', 'front named more than once'),
    ("['1st']", "'1st' is not a valid camera name"),
    ("['']", "'' is not a valid camera name"),
    ("['a/b']", "'a/b' is not a valid camera name"),
    ('[3]', '3 is not a valid camera name'),
])
def test_bad_camera_names_are_refused_in_one_line(ros_process, pascal_model, cameras, expected):
    process = ros_process(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args', '-p',
                           f'model_path:={pascal_model}', '-p', f'cameras:={cameras}'])
    process.proc.wait(timeout=60)
    code, output = process.stop()
    assert code == 1 and expected in output and 'Traceback' not in output, output


def test_output_names_come_from_one_list():
    assert OUTPUT_NAMES == ('label_map', 'color_mask', 'overlay', 'class_mask', 'confidence')
