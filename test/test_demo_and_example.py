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

"""The one-command demo on the shared photos, and the class_mask example node."""

import os
import subprocess
import time

import cv2
from lint_paths import REPO
from node_harness import Harness, start_node
import numpy as np
from PIL import Image as PilImage
from std_msgs.msg import Float32

from conftest import RosProcess  # noqa: I100  (test helper, not a third-party module)

BIRD = 3


def test_make_demo_headless_on_the_shared_photos(data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'DISPLAY'}
    result = subprocess.run(['make', '-s', 'demo', f'OUTPUT={tmp_path}'], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Three photos looped 4 times at 2 Hz: every one of the 12 frames, the first included.
    assert '3 photo(s) looped 4 times at 2 Hz (12 frames)' in result.stdout
    assert f'12 frame(s) written to {tmp_path}' in result.stdout
    assert result.stdout.count('bird 21') == 4 and result.stdout.count('dog 4') == 4
    labels = [cv2.imread(str(tmp_path / f'frame_{i:04d}_label.png'), cv2.IMREAD_UNCHANGED)
              for i in range(1, 13)]
    bird = next(m for m in labels if m.shape == (513, 513) and (m == BIRD).any())
    assert (bird == BIRD).mean() > 0.15
    picture = cv2.imread(str(tmp_path / 'frame_0001.png'))
    assert picture.shape[1] == 3 * labels[0].shape[1]  # camera | overlay | mask
    with PilImage.open(tmp_path / 'demo.gif') as animation:
        assert animation.n_frames == 12


def test_class_coverage_example(pascal_model, data_dir):
    deeplab = start_node(pascal_model, 'mask_classes:=[bird]', name='deeplab',
                         image='/coverage_test/camera')
    example = RosProcess(['-m', 'deeplab_ros.tools.class_coverage_example'])
    harness = Harness('deeplab', image='/coverage_test/camera')
    coverage = []
    harness.node.create_subscription(Float32, '/class_coverage/coverage', coverage.append, 10)
    try:
        harness.wait_for_subscriber()
        # The example must be connected both ways before the frame is sent.
        deadline = time.monotonic() + 20
        while (harness.node.count_subscribers('/deeplab/class_mask') < 2
               or harness.node.count_publishers('/class_coverage/coverage') < 1):
            assert time.monotonic() < deadline, 'the example never subscribed to class_mask'
            time.sleep(0.05)
        bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
        labels = harness.send(harness.frame(bird, 'bgr8', 'coverage'), wanted=('class_mask',))
        mask = np.frombuffer(labels['class_mask'].data, np.uint8)
        expected = (mask > 0).mean()
        for i in range(20):  # a camera keeps sending; so does this test, until the log line
            if example.wait_for_output('class covers', timeout=1.0):
                break
            harness.publisher.publish(harness.frame(bird, 'bgr8', f'coverage-{i}'))
        assert 'class covers' in example.output, example.output
        assert coverage and abs(coverage[-1].data - expected) < 1e-6
        assert 0.15 < coverage[-1].data < 0.3
    finally:
        harness.close()
        example.stop()
        deeplab.stop()
