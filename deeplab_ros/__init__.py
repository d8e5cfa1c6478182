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
DeepLab semantic segmentation for ROS 2 camera streams, in three layers.

- engine: models, the segmenter, datasets and colormaps, image files,
  downloads. No ROS: it runs anywhere numpy and OpenCV do.
- node: the managed deeplab node and what only it needs (parameters,
  diagnostics, the frame source and pipeline, the image wire format).
- tools: programs and pieces built on the two (camera, viewer, demo,
  deeplab-segment, the example consumer, launch helpers).
"""
