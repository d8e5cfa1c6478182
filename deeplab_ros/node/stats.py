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

"""Thread-safe counters behind the node's /diagnostics, and the health verdict drawn from them."""

from collections import deque
import threading
import time

import numpy as np

STALL_AFTER = 5.0  # seconds without output, frames arriving and wanted: an error
STUCK_AFTER = 5.0  # seconds one frame may spend in one stage before it is an error
SILENT_AFTER = 3.0  # seconds without a frame from a camera that was streaming: a warning
RATE_WINDOW = 3.0  # seconds the input rate is averaged over (frames are counted in bursts)
DROPS_UNKNOWN = 'unknown (this ROS release does not tell which publisher sent a frame)'


class NodeStats:
    """Counts frames and times stages; ``report()`` closes one window."""

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


def node_health(state, config_error=None, workers_alive=True, busy=None, loading=None):
    """
    Return ``(level, message)`` of the node itself, or None when it is active and sound.

    ``busy``: (stage, seconds) of a frame in a stage now. ``loading``: (model
    source, monotonic start) while configure loads the model.
    """
    if state == 'unconfigured':
        return ('ERROR', f'unconfigured: {config_error}') if config_error else (
            'OK', 'unconfigured: waiting for configure')
    if busy is not None and busy[1] > STUCK_AFTER and state in ('inactive', 'active'):
        return 'ERROR', (f'{state}: one frame has been in the {busy[0]} stage for '
                         f'{busy[1]:.0f} s (a model call or frame that slow blocks the node)')
    if state == 'inactive':
        return 'OK', 'inactive: no inference until activated'
    if state == 'configuring' and loading is not None:
        return 'OK', (f'configuring: loading model {loading[0]} '
                      f'({time.monotonic() - loading[1]:.0f} s so far)')
    if state != 'active':
        return 'OK', state
    if not workers_alive:
        return 'ERROR', 'the processing threads stopped: restart the node'
    return None


def camera_health(report, subscribed=True, topic='image', silent_for=0.0, rate=0.0,
                  since_input=0.0, clock_missing=False):
    """
    Return ``(level, message)`` of one camera of an active node.

    ``silent_for``: seconds since the camera's last output (or activation, or a
    frame skipped because nobody subscribed); with frames arriving and
    subscribers waiting, a silence longer than STALL_AFTER (or three rate
    periods) is an error. ``since_input``: seconds since a camera frame last
    arrived, None if none has since activation. ``clock_missing``:
    use_sim_time is set and no /clock has arrived.
    """
    window, span, values = report['window'], report['span'], report['values']
    if clock_missing:
        return 'WARN', ('use_sim_time is true but no /clock arrives: stamps and latency wait '
                        'for it (play bags with ros2 bag play --clock)')
    if since_input is None:
        return 'OK', f'waiting for images on {topic}'
    if since_input > SILENT_AFTER:
        return 'WARN', (f'no frame from {topic} for {since_input:.0f} s (it was streaming: is '
                        'the camera still running?)')
    if not subscribed:
        return 'OK', (f'idle: nobody subscribes to an output '
                      f"({values['input_rate_hz']} Hz arriving, none segmented)")
    if silent_for > max(STALL_AFTER, 3.0 / rate if rate > 0 else 0.0):
        return 'ERROR', (f'no output for {silent_for:.0f} s although frames arrive and outputs '
                         f"have subscribers ({window['bad']} bad, {window['failed']} failed "
                         f'in the last {span:.1f} s)')
    if window['bad'] or window['failed']:
        return 'WARN', (f"{window['bad']} bad input frame(s) and {window['failed']} failed "
                        f'frame(s) dropped in the last {span:.1f} s')
    if rate > 0 and values['input_rate_hz'] > 1.5 * values['output_rate_hz']:
        return 'OK', (f'rate-limited to {rate:g} Hz: {values["input_rate_hz"]} Hz arriving, '
                      f'{values["output_rate_hz"]} Hz segmented')
    return 'OK', f"segmenting at {values['output_rate_hz']} Hz"


def health(state, report, config_error=None, workers_alive=True, busy=None, loading=None,
           **camera):
    """Return ``(level, message)`` of a one-camera node: the node's verdict, else the camera's."""
    return (node_health(state, config_error, workers_alive, busy, loading)
            or camera_health(report, **camera))
