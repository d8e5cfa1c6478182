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

deeplab_node is the managed node; parameters and stats are its
parameter table and diagnostics; frame_source takes camera frames from
the subscription, frame_pipeline (ROS-free) runs them through the engine
on worker threads; image_cdr and image_encoding read and write
sensor_msgs images; ros_main is the main() every node shares;
lifecycle_services keeps the lifecycle services safe during slow transitions;
dds_profile picks the Fast DDS profile for large images. Modules here
may import the engine and ROS, never the tools.
"""
