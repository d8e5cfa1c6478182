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
DeepLab semantic segmentation for ROS 2 camera streams, in five layers.

- engine: models, the segmenter, datasets and colormaps, image files, point
  clouds, downloads. No ROS: it runs anywhere numpy and OpenCV do.
- pipeline: the node's frame processing that needs no ROS (the frame pipeline
  and its stages, counters and health verdicts, depth pairing, the wire format).
- ros: what every ROS program of the package shares (main, parameters, image
  messages, the Fast DDS profile, QoS).
- node: the managed deeplab node and what only it needs.
- tools: the programs built on them (camera, viewer, demo, deeplab-segment,
  the example consumer, launch helpers).
"""
