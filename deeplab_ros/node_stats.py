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

"""Thread-safe counters behind the node's /diagnostics, reported per time window."""

import threading
import time

import numpy as np


class NodeStats:
    """Counts frames and times stages; ``report()`` closes one window."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._totals = dict.fromkeys(('received', 'dropped', 'bad', 'published'), 0)
        self._window = dict(self._totals)
        self._inference = []
        self._latency = []

    def _count(self, key):
        with self._lock:
            self._totals[key] += 1
            self._window[key] += 1

    def received(self):
        self._count('received')

    def dropped(self):
        self._count('dropped')

    def bad_frame(self):
        self._count('bad')

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
        """Return ``{'ok', 'message', 'values'}`` for the window since the last report."""
        with self._lock:
            now = self._clock()
            span = max(now - self._window_start, 1e-9)
            window, inference, latency = self._window, self._inference, self._latency
            totals = dict(self._totals)
            self._window_start = now
            self._window = dict.fromkeys(window, 0)
            self._inference, self._latency = [], []

        def ms(samples, q):
            return round(float(np.percentile(samples, q)) * 1000, 1) if samples else None

        values = {
            'input_rate_hz': round(window['received'] / span, 2),
            'output_rate_hz': round(window['published'] / span, 2),
            'inference_ms_mean': round(float(np.mean(inference)) * 1000, 1) if inference
            else None,
            'latency_ms_p50': ms(latency, 50),
            'latency_ms_p95': ms(latency, 95),
            'frames_received': totals['received'],
            'frames_dropped': totals['dropped'],
            'bad_frames': totals['bad'],
            'frames_published': totals['published'],
        }
        if window['bad']:
            return {'ok': False, 'values': values,
                    'message': f"{window['bad']} bad input frame(s) dropped in the last "
                               f'{span:.1f} s'}
        if not window['received']:
            return {'ok': True, 'values': values, 'message': 'waiting for images'}
        return {'ok': True, 'values': values,
                'message': f"segmenting at {values['output_rate_hz']} Hz"}
