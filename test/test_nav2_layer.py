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
Our outputs as Nav2's semantic segmentation layer takes them, over real DDS.

The layer (kiwicampus/semantic_segmentation_layer) joins the label map, the
confidence and an organized cloud on identical stamps, each subscribed best
effort, and reads the class names from a LabelInfo. A stand-in that does the
same runs in its own process with the large-image profile (as the README
tells Nav2 users), while a camera sends color and depth at 10 Hz for 10 s.
"""

import json
import time

from conftest import REPO, RosProcess
import cv2
from deeplab_ros.engine.datasets import PASCAL_CLASSES
from deeplab_ros.ros.dds_profile import release_variable
from node_harness import cloud_node, depth_scene
import pytest

pytestmark = pytest.mark.ros


def test_the_layer_joins_nearly_every_frame_and_reads_the_class_names(
        pascal_model, bird_bgr, monkeypatch):
    monkeypatch.setenv(release_variable(), str(REPO / 'config' / 'fastdds_large_images.xml'))
    name = 'nav2_seg'
    with cloud_node(pascal_model, 'cloud_organized:=true', name=name) as (_, rig):
        layer = RosProcess([str(REPO / 'test' / 'semantic_layer_stand_in.py'), name, '16'])
        try:
            assert layer.wait_for_output('ready', timeout=30), layer.output
            rig.harness.wait_for_subscriber()
            bird = cv2.resize(bird_bgr, (320, 240), interpolation=cv2.INTER_AREA)
            _, wire = depth_scene(240, 320, '16UC1')
            info = rig.camera_info(320, 240)
            time.sleep(2.0)  # the stand-in's subscriptions are matched
            started = time.monotonic()
            while time.monotonic() - started < 10.0:
                color = rig.harness.frame(bird, 'bgr8', 'camera_color_optical_frame')
                rig.info_pub.publish(info)
                rig.depth_pub.publish(rig.depth_msg(wire, '16UC1', color.header.stamp))
                rig.harness.publisher.publish(color)
                time.sleep(0.1)
            assert layer.proc.wait(timeout=30) == 0
            result = json.loads(layer.output.strip().splitlines()[-1])
        finally:
            layer.stop()
    assert result['label_maps'] >= 20, result
    assert result['joined'] >= 0.95 * result['label_maps'], result
    assert result['clouds'] == [[240, 320, False]]
    assert result['classes'] == [[i, n] for i, n in enumerate(PASCAL_CLASSES)]
    assert result['threshold'] == 0.0
