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
The verdicts of /diagnostics: the node's own, and each camera's (no ROS).

Each returns ``(level, message)``, level 'OK', 'WARN' or 'ERROR'; the README's
diagnostics table lists every message (``test_readme.py`` keeps them in step).
"""

import time

STALL_AFTER = 5.0  # seconds without output, frames arriving and wanted: an error
STUCK_AFTER = 5.0  # seconds one frame may spend in one stage before it is an error
SILENT_AFTER = 3.0  # seconds without a frame from a camera that was streaming: a warning


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
