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
The node's frame pipeline, free of ROS: pull the newest frame, infer, publish.

Three threads, one stage each: prepare (take a frame, decode it, make the
model batch), infer, finish (make and publish the outputs), so a frame's
preparation and post-processing overlap the model's work on its neighbours.
The prepare thread pulls a frame from a camera only when it is ready for one
(the camera's rate allows it, someone wants its outputs, the model is about to
be free: it starts when the running inference is due to end within one
preparation time, from their measured durations), so frames that arrive
meanwhile are replaced where they wait and never cost a copy, and a frame
waits for the model no longer than it must. At most one frame waits between
two stages: a slow model never builds a queue.

Several cameras share the one model fairly: each keeps only its newest frame,
and the cameras with a frame waiting are served in turn (round robin from the
one after the camera served last), so a camera that floods, stops or sends
bad frames takes no more than its turn. ``rate`` limits each camera.

A camera (a *source*) has ``take()`` (its newest frame or None). A *waiter*
has ``wait(sources, timeout)`` (until one of them may have a frame) and
``interrupt()`` (end a wait now, from any thread).

Neither thread can die from an exception: each one is reported through
``on_error(stage, error, job)`` and counted, and the loop goes on with the
next frame. ``stop()`` always joins every thread.
"""

from dataclasses import dataclass
import threading
import time
from typing import Any, Callable, Dict, Optional

import numpy as np

MAX_WAIT = 1.0  # longest single sleep, so stop(), rate changes and huge periods stay prompt
ERROR_PAUSE = 0.1  # after an unexpected error, before the thread tries again
IDLE_CHECK = 0.1  # how often an unwanted camera is looked at again (someone subscribed?)
# An unwanted or rate-limited camera still has a frame taken this often (its input
# rate stays known).
IDLE_SAMPLE = 1.0
SMOOTHING = 0.2  # weight of the newest duration in a stage's running estimate


class PipelineBusy(RuntimeError):
    """A thread of the last run is still in a stage; the message says which and how long."""


@dataclass
class Job:
    """One frame on its way through the pipeline; each stage fills in its fields."""

    source: Any              # the camera it came from (the node's CameraInput)
    frame: bytes             # what the source gave: the serialized message
    settings: Any            # the frozen settings taken with the frame (``rate``, ...)
    wanted: Dict[str, bool]  # what wanted(source, settings) said for it
    # prepare:
    header: Any = None       # the input's header (stamp, frame_id), copied to every output
    image: Optional[np.ndarray] = None   # the decoded camera image, HxWx3 uint8
    order: Optional[str] = None          # its channel order, 'rgb' or 'bgr'
    prepared: Any = None     # the model batch and its geometry (segmenter.Prepared)
    # infer:
    labels: Optional[np.ndarray] = None      # the model's class ids for the whole batch
    confidence: Optional[np.ndarray] = None  # the model's confidence per pixel, or None


class _Lane:
    """The pipeline's bookkeeping for one source: when it was last served and sampled."""

    def __init__(self, source):
        self.source = source
        self.last_start = float('-inf')
        self.last_sample = float('-inf')


class FramePipeline:
    """
    Run ``prepare(job)`` and ``infer(job)`` on one thread, ``finish(job)`` on another.

    ``settings()`` returns a snapshot of the live settings; its ``rate``
    (frames per second and camera, 0 for every frame) paces each camera.
    ``wanted(source, settings)`` false means nobody wants that camera's
    outputs: its frames are not taken; otherwise its value goes with the
    frame (``job.wanted``).
    """

    def __init__(self, prepare: Callable, infer: Callable, finish: Callable,
                 settings: Callable, on_error: Callable,
                 wanted: Callable = lambda source, settings: True, clock=time.monotonic):
        self._stages = {'prepare': prepare, 'infer': infer, 'finish': finish}
        self._settings = settings
        self._wanted = wanted
        self._on_error = on_error
        self._clock = clock
        self._cond = threading.Condition()
        self._lanes = []
        self._waiter = None
        self._next = 0           # the lane looked at first: the one after the last served
        self._slots = {'prepared': None, 'inferred': None}  # one job waiting after a stage
        self._took = {}          # stage -> running estimate of its seconds
        self._infer_since = None  # when the running inference started (None: none runs)
        self._stopping = False
        self._threads = []
        self._in_stage = {}      # thread id -> (stage, since): what runs now
        self.errors = {}         # stage -> count

    def set_sources(self, sources, waiter=None):
        """Pull frames from ``sources`` (a list) from now on; a pending wait ends."""
        with self._cond:
            old, self._waiter = self._waiter, waiter
            self._lanes = [_Lane(source) for source in sources]
            self._next = 0
            self._cond.notify_all()
        if old is not None:
            old.interrupt()

    def wake(self):
        """Re-read the settings now (a rate change applies at once)."""
        with self._cond:
            self._cond.notify_all()
            waiter = self._waiter
        if waiter is not None:
            waiter.interrupt()

    # Life cycle ---------------------------------------------------------------

    def start(self):
        """
        Start the threads (again after a stop).

        PipelineBusy if a thread of the last run is still in a stage (a frame or
        model call slower than stop()'s wait): two inference threads must never
        share the model, so nothing starts until it has finished.
        """
        self.stop(timeout=2 * MAX_WAIT)  # threads not in a stage end within MAX_WAIT
        if self._threads:
            stage, seconds = self.busy() or ('a stage', 0.0)
            raise PipelineBusy(f'the last frame is still in {stage} after {seconds:.0f} s; '
                               'try again when it has finished')
        with self._cond:
            self._stopping = False
            self._slots = dict.fromkeys(self._slots)
            self._infer_since = None
        self._threads = [threading.Thread(target=self._loop, args=(run,), name=name, daemon=True)
                         for name, run in (('deeplab_prepare', self._prepare_once),
                                           ('deeplab_infer', self._infer_once),
                                           ('deeplab_output', self._finish_once))]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout=10.0):
        """
        Stop and join the threads; a frame not yet published is discarded.

        A thread still in a stage after ``timeout`` is kept (``running`` stays
        true, ``busy()`` says where): it ends by itself after that stage.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]

    def busy(self):
        """Return ``(stage, seconds)`` of the stage running longest now, or None."""
        now = self._clock()
        running = [(stage, now - since) for stage, since in list(self._in_stage.values())]
        return max(running, key=lambda item: item[1], default=None)

    @property
    def running(self):
        return bool(self._threads)

    @property
    def alive(self):
        """Tell whether every started thread still runs (False: diagnostics say ERROR)."""
        return all(thread.is_alive() for thread in self._threads)

    # The threads --------------------------------------------------------------

    def _loop(self, run_once):
        while not self._stopping:
            try:
                run_once()
            except Exception as err:  # noqa: B902  never let a thread die; report, go on
                self._report('internal', err)
                with self._cond:  # a lasting fault must not spin: retry ten times a second
                    if not self._stopping:
                        self._cond.wait(ERROR_PAUSE)

    def _report(self, stage, error, job=None):
        self.errors[stage] = self.errors.get(stage, 0) + 1
        self._on_error(stage, error, job)

    def _pause(self, seconds):
        with self._cond:
            if not self._stopping:
                self._cond.wait(seconds)

    def _take(self):
        """Wait until a camera's rate allows a frame, it is wanted and there; None if stopping."""
        while not self._stopping:
            settings = self._settings()
            period = 1.0 / settings.rate if settings.rate > 0 else 0.0
            lanes, waiter, first = self._lanes, self._waiter, self._next
            wait_for, pause = [], MAX_WAIT
            for index in range(len(lanes)):
                lane = lanes[(first + index) % len(lanes)]
                remaining = lane.last_start + period - self._clock()
                if remaining > 0:
                    # Rate-limited: a sample keeps the input rate known, but only while
                    # more than a sample interval is left, so the newest frame at the end
                    # of the wait is never the one dropped.
                    if remaining > IDLE_SAMPLE:
                        self._sample(lane)
                    pause = min(pause, remaining, IDLE_SAMPLE)
                elif not (wanted := self._wanted(lane.source, settings)):
                    self._sample(lane)
                    pause = min(pause, IDLE_CHECK)
                elif (frame := lane.source.take()) is not None:
                    self._next = (first + index + 1) % len(lanes)
                    lane.last_start = self._clock()
                    return Job(lane.source, frame, settings, wanted)
                else:
                    wait_for.append(lane.source)
            if wait_for and waiter is not None:
                waiter.wait(wait_for, pause)
            else:
                self._pause(pause)
        return None

    def _sample(self, lane):
        """Take and drop a frame once per IDLE_SAMPLE: the source counts what arrived."""
        if self._clock() - lane.last_sample >= IDLE_SAMPLE:
            lane.last_sample = self._clock()
            lane.source.take()

    def _run_stage(self, stage, job):
        me = threading.get_ident()
        self._in_stage[me] = (stage, self._clock())
        try:
            return self._stages[stage](job)
        except Exception as err:  # noqa: B902  a bad frame or a model error: next frame
            self._report(stage, err, job)
            return False
        finally:
            self._in_stage.pop(me, None)

    def _timed_stage(self, stage, job):
        started = self._clock()
        ok = self._run_stage(stage, job) is not False
        seconds = self._clock() - started
        with self._cond:
            last = self._took.get(stage, seconds)
            self._took[stage] = last + SMOOTHING * (seconds - last)
        return ok

    def _hand_over(self, slot, job):
        """Put ``job`` in ``slot`` once it is free (False: stopping, dropped)."""
        with self._cond:
            while self._slots[slot] is not None and not self._stopping:
                self._cond.wait(MAX_WAIT)
            if self._stopping:
                return False
            self._slots[slot] = job
            self._cond.notify_all()
            return True

    def _receive(self, slot):
        """Return the job in ``slot`` once there is one, or None when stopping."""
        with self._cond:
            while self._slots[slot] is None and not self._stopping:
                self._cond.wait(MAX_WAIT)
            job, self._slots[slot] = self._slots[slot], None
            self._cond.notify_all()
            return job

    def _wait_for_the_model(self):
        """Return when a frame prepared now would find the model free, or about to be."""
        with self._cond:
            while not self._stopping:
                busy_until = (None if self._infer_since is None else
                              self._infer_since + self._took.get('infer', 0.0)
                              - self._took.get('prepare', 0.0))
                if self._slots['prepared'] is None and (
                        busy_until is None or busy_until <= self._clock()):
                    return
                self._cond.wait(MAX_WAIT if busy_until is None
                                else min(MAX_WAIT, max(busy_until - self._clock(), 0.001)))

    def _prepare_once(self):
        self._wait_for_the_model()
        job = self._take()
        if job is not None and self._timed_stage('prepare', job):
            self._hand_over('prepared', job)

    def _infer_once(self):
        job = self._receive('prepared')
        if job is None:
            return
        with self._cond:
            self._infer_since = self._clock()
        try:
            ok = self._timed_stage('infer', job)
        finally:
            with self._cond:
                self._infer_since = None
                self._cond.notify_all()
        if ok:
            self._hand_over('inferred', job)

    def _finish_once(self):
        job = self._receive('inferred')
        if job is not None:
            self._run_stage('finish', job)
