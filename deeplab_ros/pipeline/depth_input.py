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
The depth frames and camera_info that pair with segmented frames, matched by stamp (no ROS).

Depth registered to the color image arrives on its own topic, before or
after the color frame with the same (or a nearby) stamp. The newest few
serialized depth frames wait here, within a count and a byte budget (a
stream of huge depth frames cannot pile up); ``match`` returns the one
nearest the color frame's stamp within the tolerance, waiting a while for one
still in flight, and counts matched and unmatched frames for the diagnostics.
"""

from collections import deque
import threading
import time

KEPT = 8  # depth frames kept for matching: ~0.25 s at 30 Hz
KEPT_BYTES = 64 << 20  # and at most this much of them: four 1920x1080 32FC1 frames


class DepthInput:
    """Serialized depth frames by stamp (nanoseconds) and the newest camera matrix."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._frames = deque()  # (stamp, frame, bytes)
        self._bytes = 0
        self._cond = threading.Condition()
        self.camera_info = None  # (k, width, height) of the color camera
        self.received = self.matched = self.unmatched = self.refused = 0
        self._interrupts = 0
        self._window_received = 0

    def add(self, stamp_ns, raw, size=0):
        """Keep ``raw`` (``size`` bytes), dropping the oldest frames past KEPT or KEPT_BYTES."""
        with self._cond:
            self._frames.append((stamp_ns, raw, size))
            self._bytes += size
            while len(self._frames) > KEPT or (self._bytes > KEPT_BYTES
                                               and len(self._frames) > 1):
                self._bytes -= self._frames.popleft()[2]
            self.received += 1
            self._window_received += 1
            self._cond.notify_all()

    def refuse(self):
        """Count a frame that arrived and was refused (unreadable, too large): not kept."""
        with self._cond:
            self.received += 1
            self.refused += 1
            self._window_received += 1

    def interrupt(self):
        """End a ``match`` waiting now, with None: the cloud is stopping."""
        with self._cond:
            self._interrupts += 1
            self._cond.notify_all()

    def set_camera_info(self, k, width, height):
        self.camera_info = (tuple(k), int(width), int(height))

    def match(self, stamp_ns, tolerance, wait=None):
        """
        Return the depth frame nearest ``stamp_ns`` within ``tolerance`` s, or None.

        Waits up to ``wait`` seconds (default: the tolerance) for a frame still in
        flight, unless a newer one shows that none will come.
        """
        limit = int(tolerance * 1e9)
        deadline = self._clock() + (tolerance if wait is None else wait)
        with self._cond:
            interrupts = self._interrupts
            while True:
                best = min(self._frames, key=lambda f: abs(f[0] - stamp_ns), default=None)
                if best is not None and abs(best[0] - stamp_ns) <= limit:
                    self.matched += 1
                    return best[1]
                newest = self._frames[-1][0] if self._frames else None
                remaining = deadline - self._clock()
                if remaining <= 0 or (newest is not None and newest > stamp_ns + limit):
                    self.unmatched += 1
                    return None
                if self._interrupts != interrupts:
                    return None
                self._cond.wait(remaining)

    def report(self, span):
        """Return the diagnostics values; ``span`` is the seconds since the last report."""
        with self._cond:
            rate, self._window_received = self._window_received / max(span, 1e-9), 0
        return {'depth_rate_hz': round(rate, 2), 'depth_frames_matched': self.matched,
                'depth_frames_unmatched': self.unmatched,
                'depth_frames_refused': self.refused,
                'camera_info': 'received' if self.camera_info else 'missing'}
