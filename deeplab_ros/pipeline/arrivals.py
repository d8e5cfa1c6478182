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
How many frames a camera sent between two takes, from what the ROS release tells (no ROS).

The node takes only the newest frame, so the frames replaced unseen are
known only from the publisher's sequence numbers in the message info. What
that info holds depends on the release: Kilted has the sequence number and
the publisher's gid, so each publisher is counted on its own; Jazzy has the
sequence number without the gid, which is enough only while one publisher
sends; Humble has timestamps only. Where the info cannot tell, the count is
None (unknown), never a number mixed from two publishers.
"""

ONLY_PUBLISHER = b'only'  # key when the info has no gid but one publisher sends


class ArrivalCounter:
    """``count(info, publishers)``: frames sent since the last take, or None if unknown."""

    def __init__(self):
        self._last = {}  # publisher key -> last sequence number taken

    def count(self, info, publishers=1):
        """Return how many frames arrived with this one (at least 1), or None if unknown."""
        number = info.get('publication_sequence_number')
        if not number:
            return None
        gid = info.get('publisher_gid')
        if gid is not None:
            key = bytes(gid.get('data', b''))
        elif publishers == 1:
            key = ONLY_PUBLISHER
        else:
            self._last.pop(ONLY_PUBLISHER, None)  # its numbers may now come from another
            return None
        last = self._last.get(key)
        self._last[key] = number
        return number - last if last and number > last else 1
