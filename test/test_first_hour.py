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

"""A newcomer's first hour: the default model, namespaced nodes, integers for doubles."""

import contextlib
import subprocess
import sys

from conftest import RosProcess
from lint_paths import REPO
import pytest

DEFAULT_WITHOUT_TENSORFLOW = """
import sys
sys.modules['tensorflow'] = None  # as on a robot with LiteRT only
from deeplab_ros.engine.model_loading import load_model
from deeplab_ros.engine.model_zoo import DEFAULT_MODEL
model = load_model(DEFAULT_MODEL)
print(DEFAULT_MODEL, model.file_format, model.runtime, model.dataset)
"""


def test_the_default_model_starts_with_litert_alone(data_dir, monkeypatch):
    """From a local copy, pinned, with TensorFlow not importable at all."""
    monkeypatch.setenv('DEEPLAB_ROS_TEST_DATA', str(data_dir))
    out = subprocess.run([sys.executable, '-c', DEFAULT_WITHOUT_TENSORFLOW],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['mobilenetv2_pascal_quant_tflite', 'tflite', 'LiteRT',
                                  'pascal']


@pytest.mark.ros
def test_two_namespaced_nodes_publish_distinct_names_and_take_integer_rates(pascal_model):
    from node_harness import harnessed
    with contextlib.ExitStack() as stack:
        harnesses = [stack.enter_context(harnessed(
            RosProcess(['-m', 'deeplab_ros.node.deeplab_node', '--ros-args',
                        '-r', f'__ns:=/{robot}', '-p', f'model_path:={pascal_model}']),
            f'{robot}/deeplab', outputs=())) for robot in ('robot1', 'robot2')]
        for harness in harnesses:
            harness.status(timeout=30)  # named /robot1/deeplab: segmentation, not deeplab: ...
            # ros2 param set /robot1/deeplab rate 5: an integer for a double.
            [result] = harness.set_parameters(rate=5)
            assert result.successful, result.reason
            [refused] = harness.set_parameters(rate='fast')
            assert refused.reason == "rate must be a number such as 5 or 5.0, got text: 'fast'"
        names = {s.name for h in harnesses for array in h.diagnostics for s in array.status}
        assert {'/robot1/deeplab: segmentation', '/robot2/deeplab: segmentation'} <= names
