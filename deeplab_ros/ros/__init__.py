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
What every ROS program of the package shares: the deeplab node and the tools alike.

ros_main is the main() each node runs (signals, one-line start-up errors, ending
with the launch that started it); parameters declares and checks a program's
parameter table; image_encoding turns sensor_msgs images into numpy arrays and
back; dds_profile picks the Fast DDS profile for large images; qos holds the
QoS profiles the programs share; unserved keeps what a node creates and
destroys while it spins away from the executor. Modules here may import the
engine and the pipeline, never the node or the tools.
"""
