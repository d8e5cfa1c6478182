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
What differs between Humble, Jazzy and Kilted, tested on the stack at hand.

Newer APIs are made missing here to test the fallbacks; the message-info
shapes are each release's own (rclpy's subscription take on each branch).
"""

import subprocess
import sys

from deeplab_ros.pipeline.arrivals import ArrivalCounter
from deeplab_ros.pipeline.frame_stats import CameraStats, DROPS_UNKNOWN
import pytest

KILTED = {'source_timestamp': 1, 'received_timestamp': 2, 'publication_sequence_number': 0,
          'reception_sequence_number': 0, 'publisher_gid': {'implementation_identifier': 'x',
                                                            'data': b'A' * 16}}
JAZZY = {k: v for k, v in KILTED.items() if k != 'publisher_gid'}
HUMBLE = {'source_timestamp': 1, 'received_timestamp': 2}


def info(base, number, gid=None):
    result = {**base, 'publication_sequence_number': number} if base is not HUMBLE else base
    if gid is not None and 'publisher_gid' in base:
        result['publisher_gid'] = {'data': gid}
    return result


def test_kilted_counts_each_publisher_on_its_own():
    counter = ArrivalCounter()
    assert counter.count(info(KILTED, 5, b'A')) == 1
    assert counter.count(info(KILTED, 100, b'B')) == 1   # another camera: not 95 drops
    assert counter.count(info(KILTED, 9, b'A')) == 4      # 6, 7, 8 replaced unseen
    assert counter.count(info(KILTED, 101, b'B')) == 1


def test_jazzy_counts_while_one_publisher_sends_and_says_unknown_otherwise():
    counter = ArrivalCounter()
    assert counter.count(info(JAZZY, 5), publishers=1) == 1
    assert counter.count(info(JAZZY, 8), publishers=1) == 3
    assert counter.count(info(JAZZY, 100), publishers=2) is None
    assert counter.count(info(JAZZY, 9), publishers=2) is None
    assert counter.count(info(JAZZY, 10), publishers=1) == 1  # no number kept from the mix


def test_humble_has_no_sequence_numbers_so_drops_are_unknown():
    counter = ArrivalCounter()
    assert counter.count(HUMBLE) is None
    stats = CameraStats()
    stats.arrived(counter.count(HUMBLE))
    stats.arrived(counter.count(HUMBLE))
    values = stats.report()['values']
    assert values['frames_received'] == 2 and values['frames_dropped'] == DROPS_UNKNOWN


def test_a_tflite_model_without_any_runtime_names_the_package_to_install(pascal_model):
    script = ('import sys\n'
              'sys.modules["ai_edge_litert"] = sys.modules["tensorflow"] = None\n'
              'from deeplab_ros.engine.model_loading import load_model, ModelLoadError\n'
              'try:\n    load_model(sys.argv[1])\n'
              'except ModelLoadError as err:\n    print(err)\n')
    out = subprocess.run([sys.executable, '-c', script, str(pascal_model)], capture_output=True,
                         text=True, timeout=60)
    assert 'no runtime for .tflite models is installed: pip install ai-edge-litert' in out.stdout
    assert 'TensorFlow is not installed' in out.stdout


@pytest.fixture
def humble_rclpy(monkeypatch):
    """Make rclpy look like Humble's 3.3: no pre- or post-set parameter callbacks."""
    import rclpy.node
    for name in ('add_post_set_parameters_callback', 'add_pre_set_parameters_callback'):
        if hasattr(rclpy.node.Node, name):
            monkeypatch.delattr(rclpy.node.Node, name)


@pytest.mark.ros
@pytest.mark.parametrize('release', ['humble', 'this one'])
def test_parameters_apply_with_or_without_the_newer_callbacks(release, request, ros_context,
                                                              pascal_model):
    from deeplab_ros.node.deeplab_node import DeepLabNode
    from rclpy.parameter import Parameter
    if release == 'humble':
        request.getfixturevalue('humble_rclpy')
    node = DeepLabNode(context=ros_context, parameter_overrides=[
        Parameter('autostart', value=False), Parameter('model_path', value=str(pascal_model))])
    try:
        node.trigger_configure()
        assert node.set_parameters([Parameter('rate', value=5)])[0].successful
        assert node.settings.rate == 5.0 and isinstance(node.settings.rate, float)
        assert node.set_parameters([Parameter('overlay_alpha', value=0.25)])[0].successful
        assert node.settings.overlay_alpha == 0.25
        refused = node.set_parameters([Parameter('rate', value='fast')])[0]
        assert not refused.successful
        assert refused.reason == "rate must be a number such as 5 or 5.0, got text: 'fast'"
        assert node.settings.rate == 5.0
        refused = node.set_parameters([Parameter('overlay_alpha', value=2)])[0]
        assert not refused.successful and 'overlay_alpha' in refused.reason  # rclpy's or ours
        assert '1.0' in refused.reason
        if release != 'humble':  # stored as a double where pre-set callbacks exist
            assert node.get_parameter('rate').type_ == Parameter.Type.DOUBLE
    finally:
        node.close()
        node.destroy_node()


@pytest.mark.ros
def test_the_camera_node_applies_a_framerate_without_the_post_set_callback(
        humble_rclpy, ros_context, tmp_path):
    import cv2
    import numpy as np
    from deeplab_ros.tools.camera_node import CameraNode
    from rclpy.parameter import Parameter
    image = tmp_path / 'one.png'
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    node = CameraNode(context=ros_context, parameter_overrides=[
        Parameter('source', value=str(image))])
    try:
        node.start()
        assert node.set_parameters([Parameter('framerate', value=4)])[0].successful
        assert node._timer.timer_period_ns == 250_000_000
    finally:
        node.close()
        node.destroy_node()


@pytest.mark.ros
def test_the_spinner_ignores_rclpys_invalid_handle_only_while_stopping():
    import threading
    from deeplab_ros.ros.ros_main import Spinner
    from rclpy.exceptions import InvalidHandle

    class Executor:
        def __init__(self):
            self.stop = threading.Event()

        def spin(self):
            self.stop.wait(5)
            raise InvalidHandle('cannot use Destroyable because destruction was requested')

        def shutdown(self, timeout_sec=None):
            self.stop.set()

    spinner = Spinner(Executor())
    spinner.stop()  # no error: it came from shutdown itself
    early = Executor()
    early.stop.set()
    broken = Spinner(early)
    broken._thread.join(5)
    with pytest.raises(InvalidHandle):
        broken.stop()
