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
Bad camera frames over DDS, and the next good frame always served.

Each kind is warned about once, a compressed bomb is refused before decoding,
a flood of unique encodings gives a bounded number of warnings.
"""

import time

from conftest import BIRD, png_declaring
import cv2
from node_harness import running_node
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage

pytestmark = pytest.mark.ros


def test_a_compressed_image_declaring_a_huge_size_is_refused_before_decoding(
        pascal_model, bird_bgr):
    with running_node(pascal_model, 'input_transport:=compressed', name='bomb',
                      compressed=True) as (node, harness):
        harness.wait_for_subscriber()
        bomb = CompressedImage(format='png', data=png_declaring(30000, 30000))
        bomb.header.frame_id = 'bomb'
        harness.publisher.publish(bomb)
        assert node.wait_for_output(
            'absurd compressed image size 30000x30000 (over 67108864 pixels)', timeout=10), \
            node.output
        good = CompressedImage(format='jpeg',
                               data=cv2.imencode('.jpg', bird_bgr)[1].tobytes())
        good.header.frame_id = 'good-after-bomb'
        labels = harness.send(good)['label_map']
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
        assert not harness.outputs_for('bomb')


def test_each_kind_of_bad_frame_is_logged_although_they_come_together(pascal_model, bird_bgr):
    with running_node(pascal_model, name='kinds') as (node, harness):
        harness.wait_for_subscriber()
        # One after the other, each taken before the next (a newer frame would replace it
        # unseen), all within a warning period (5 s).
        for encoding in ('32FC1', '16UC1', 'bayer_rggb8', '32FC1'):
            bad = harness.frame(bird_bgr[:64, :64], 'bgr8', f'bad-{encoding}')
            bad.encoding = encoding
            harness.publisher.publish(bad)
            assert node.wait_for_output(f"unsupported encoding '{encoding}'", timeout=10), \
                node.output
        harness.wait_for_status(lambda level, message, values: values.get('bad_frames') == '4')
        labels = harness.send(harness.frame(bird_bgr, 'bgr8', 'good'))['label_map']
        assert (np.frombuffer(labels.data, np.uint8) == BIRD).mean() > 0.15
        assert node.output.count("unsupported encoding '32FC1'") == 1  # throttled per kind


def test_a_flood_of_unique_encodings_gives_bounded_warnings(pascal_model, bird_bgr):
    """Hardening II, 5: each unique encoding had its own warning key (3000 warnings, 60 MB)."""
    bird = cv2.resize(bird_bgr, (64, 48))
    with running_node(pascal_model, 'qos:=reliable', name='flood') as (node, harness):
        harness.wait_for_subscriber()
        harness.send(harness.frame(bird, 'bgr8', 'before'))
        for i in range(400):
            msg = harness.frame(bird, 'bgr8', f'odd-{i}')
            msg.encoding = f'{i:04d}' + 'x' * 2000
            harness.publisher.publish(msg)
            time.sleep(0.005)
        got = harness.send(harness.frame(bird, 'bgr8', 'after'))['label_map']
        assert got.header.frame_id == 'after'      # the next good frame is served
        warnings = [line for line in node.output.splitlines() if '[WARN]' in line]
        assert 10 < len(warnings) <= 66, len(warnings)   # 64 kinds, then one shared
        assert max(len(line) for line in warnings) < 400
