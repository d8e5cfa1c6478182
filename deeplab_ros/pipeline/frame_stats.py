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

"""Thread-safe counters of one camera's frames, behind the node's /diagnostics (no ROS)."""

from collections import deque
import threading
import time

import numpy as np

RATE_WINDOW = 3.0  # seconds the input rate is averaged over (frames are counted in bursts)
DROPS_UNKNOWN = 'unknown (this ROS release does not tell which publisher sent a frame)'


class CameraStats:
    """Counts one camera's frames and times their stages; ``report()`` closes one window."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = self._started = clock()
        self._totals = dict.fromkeys(('received', 'dropped', 'unused', 'bad', 'failed',
                                      'published'), 0)
        self._window = dict(self._totals)
        self._inference = []
        self._latency = []
        self._arrivals = deque()  # (time, frames): the input rate over RATE_WINDOW
        self._drops_known = True

    def _count(self, key):
        with self._lock:
            self._totals[key] += 1
            self._window[key] += 1

    def arrived(self, count=1, unused=False):
        """
        Count ``count`` frames sent by the camera, all but one never processed.

        None: one frame taken, and how many were sent meanwhile is unknown (the
        ROS release's message info cannot tell); drops are reported unknown.
        ``unused``: they came while nobody wanted an output, so none was to be
        processed: counted as unused, not dropped.
        """
        with self._lock:
            if count is None:
                self._drops_known = unused and self._drops_known
                count = 1
            self._arrivals.append((self._clock(), count))
            for totals in (self._totals, self._window):
                totals['received'] += count
                if unused:
                    totals['unused'] += count
                else:
                    totals['dropped'] += count - 1

    def bad_frame(self):
        self._count('bad')

    def failed(self):
        """Count a frame lost to an error after decoding (model, post-processing, publish)."""
        self._count('failed')

    def inferred(self, seconds):
        with self._lock:
            self._inference.append(seconds)

    def published(self, latency):
        """Count an output frame; ``latency`` is stamp-to-publish seconds or None."""
        self._count('published')
        if latency is not None:
            with self._lock:
                self._latency.append(latency)

    def report(self):
        """Return ``{'window': counts, 'span': seconds, 'values': ...}`` since the last report."""
        with self._lock:
            now = self._clock()
            span = max(now - self._window_start, 1e-9)
            while self._arrivals and self._arrivals[0][0] < now - RATE_WINDOW:
                self._arrivals.popleft()
            arrived = sum(count for _, count in self._arrivals)
            rate_span = min(RATE_WINDOW, max(now - self._started, 1e-9))
            window, inference, latency = self._window, self._inference, self._latency
            totals = dict(self._totals)
            self._window_start = now
            self._window = dict.fromkeys(window, 0)
            self._inference, self._latency = [], []

        def ms(samples, q):
            return round(float(np.percentile(samples, q)) * 1000, 1) if samples else None

        values = {
            'input_rate_hz': round(arrived / rate_span, 2),
            'output_rate_hz': round(window['published'] / span, 2),
            'inference_ms_mean': round(float(np.mean(inference)) * 1000, 1) if inference
            else None,
            'latency_ms_p50': ms(latency, 50),
            'latency_ms_p95': ms(latency, 95),
            'frames_received': totals['received'],
            'frames_dropped': totals['dropped'] if self._drops_known else DROPS_UNKNOWN,
            'frames_unused': totals['unused'],
            'bad_frames': totals['bad'],
            'failed_frames': totals['failed'],
            'frames_published': totals['published'],
        }
        return {'window': window, 'span': span, 'values': values}
