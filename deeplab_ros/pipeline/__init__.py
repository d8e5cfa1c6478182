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
The frame pipeline's pieces that need no ROS: threads, counters, matching, wire format.

frame_pipeline runs the frames of every camera through one model on two worker
threads, serving the cameras in turn; model_stages are its three stages over the
engine; frame_stats counts each camera's frames and health draws the
/diagnostics verdicts from them; arrivals tells how many frames a camera sent
between two takes; depth_input pairs depth frames with segmented ones by
stamp; throttled_log bounds repeated warnings; cdr reads and writes serialized
sensor_msgs Image and PointCloud2 with numpy. Modules here may import the
engine, never ROS, the node, ros or the tools (test_layers.py checks it).
"""
