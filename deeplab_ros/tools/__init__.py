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
Programs built on the other layers: what users run besides the node.

camera_node (a camera, video, image or folder as a topic), viewer,
demo (make demo), segment_cli (deeplab-segment, no ROS),
class_coverage_example (a consumer of the masks), launch_plan (what the
launch files start, decided without launch) and launch_helpers (its plan as
launch actions). Modules here may import the engine, the pipeline, ros and
the node; nothing imports them.
"""
