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
The segmentation engine, free of ROS: what a model is and how an image becomes labels.

Model files are found or downloaded (model_source, model_zoo,
downloads), loaded by their format (model_loading; tflite_graph adds a
.tflite graph's class scores as an output) and run on images of any size
(segmenter); confidence turns class scores into per-pixel confidence;
datasets and visualize give class names, colors and overlays; image_files
decodes encoded images within a pixel limit; point_cloud makes labeled
points from depth; sample_data finds the real models and photos. Modules
here import only the standard library, numpy, OpenCV, TensorFlow or LiteRT
and each other, never rclpy or a message package (a test checks it).
"""

import os

MAX_PIXELS = 8192 * 8192  # the largest image any part of the package accepts
# OpenCV reads its own decoder limit once, at its first decode: the same number, set
# before any engine module decodes, guards every codec OpenCV has.
os.environ.setdefault('OPENCV_IO_MAX_IMAGE_PIXELS', str(MAX_PIXELS))
