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
The deeplab ROS 2 node and what only it needs.

deeplab_node is the managed node, and only orchestrates; settings is its
parameter table and frozen settings; camera_input is one camera (its
subscription through camera_subscription, decoding, counters, outputs);
image_outputs makes a camera's image outputs from one list; cloud_output is
its depth input and ~/points; label_info latches the class names;
diagnostics builds /diagnostics; lifecycle_services keeps the lifecycle
services safe during slow transitions. Modules here may import the engine,
the pipeline and ros, never the tools.
"""
