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

"""The QoS profiles the package's programs share."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

# Published once and kept for late joiners (the class names): reliable, transient local.
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def image_qos(reliability) -> QoSProfile:
    """Image QoS: newest frame only (depth 1), volatile, with the given reliability."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)


def matching_reliability(publishers):
    """Return the reliability that hears every publisher: reliable only if all of them are."""
    return (ReliabilityPolicy.RELIABLE
            if all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
            else ReliabilityPolicy.BEST_EFFORT)
