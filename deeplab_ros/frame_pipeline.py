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
The node's frame pipeline, free of ROS: newest-frame slot, inference thread, output thread.

``put()`` (the subscription callback) only stores the newest frame. The
inference thread takes it when the rate allows, prepares it and runs the
model; the output thread finishes and publishes it, so one frame's
post-processing overlaps the next frame's inference. At most one frame waits
between the two threads: a slow model never builds a queue.

Neither thread can die from an exception: each one is reported through
``on_error(stage, error)`` and counted, and the loop goes on with the next
frame. ``stop()`` always joins both threads.
"""

from dataclasses import dataclass, field
import threading
import time

MAX_WAIT = 1.0  # longest single sleep, so stop(), rate changes and huge periods stay prompt


@dataclass
class Job:
    """One frame on its way through the pipeline; the stages fill in the fields."""

    frame: object                               # what put() received
    settings: dict                              # read once, when the frame was taken
    data: dict = field(default_factory=dict)    # stage results (image, batch, labels, ...)


class FramePipeline:
    """
    Run ``prepare(job)`` and ``infer(job)`` on one thread, ``finish(job)`` on another.

    ``prepare`` returns False to skip a frame (nobody wants its outputs).
    ``settings()`` returns a snapshot of the live settings; its ``rate``
    (frames per second, 0 for every frame) paces the inference thread.
    """

    def __init__(self, prepare, infer, finish, settings, on_error, clock=time.monotonic):
        self._stages = {'prepare': prepare, 'infer': infer, 'finish': finish}
        self._settings = settings
        self._on_error = on_error
        self._clock = clock
        self._cond = threading.Condition()
        self._frame = None       # the newest frame not yet taken
        self._result = None      # the one job waiting for the output thread
        self._stopping = False
        self._last_start = float('-inf')  # when the last processed frame was taken
        self._threads = []
        self.errors = {}         # stage -> count

    # The producer side -------------------------------------------------------

    def put(self, frame):
        """Store ``frame`` as the newest; return True when it replaced one never taken."""
        with self._cond:
            replaced = self._frame is not None
            self._frame = frame
            self._cond.notify_all()
        return replaced

    def wake(self):
        """Re-read the settings now (a rate change applies at once)."""
        with self._cond:
            self._cond.notify_all()

    # Life cycle ---------------------------------------------------------------

    def start(self):
        """Start both threads (again after a stop)."""
        self.stop()
        with self._cond:
            self._stopping = False
            self._frame = self._result = None
        self._threads = [threading.Thread(target=self._loop, args=(run,), name=name, daemon=True)
                         for name, run in (('deeplab_infer', self._infer_once),
                                           ('deeplab_output', self._finish_once))]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout=10.0):
        """Stop and join both threads; frames not yet published are discarded."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        self._threads = []

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

    def _report(self, stage, error):
        self.errors[stage] = self.errors.get(stage, 0) + 1
        self._on_error(stage, error)

    def _interval(self):
        rate = self._settings().get('rate', 0.0)
        return 1.0 / rate if rate > 0 else 0.0

    def _take(self, last_start):
        """Wait until the rate allows a frame and one is there; None when stopping."""
        with self._cond:
            while not self._stopping:
                remaining = last_start + self._interval() - self._clock()
                if remaining > 0:
                    self._cond.wait(min(remaining, MAX_WAIT))
                elif self._frame is None:
                    self._cond.wait(MAX_WAIT)
                else:
                    frame, self._frame = self._frame, None
                    return frame
        return None

    def _run_stage(self, stage, job):
        try:
            return self._stages[stage](job)
        except Exception as err:  # noqa: B902  a bad frame or a model error: next frame
            self._report(stage, err)
            return False

    def _infer_once(self):
        frame = self._take(self._last_start)
        if frame is None:
            return
        job = Job(frame, self._settings())
        if self._run_stage('prepare', job) is False:
            return
        self._last_start = self._clock()
        if self._run_stage('infer', job) is False:
            return
        with self._cond:
            while self._result is not None and not self._stopping:
                self._cond.wait(MAX_WAIT)
            self._result = job
            self._cond.notify_all()

    def _finish_once(self):
        with self._cond:
            while self._result is None and not self._stopping:
                self._cond.wait(MAX_WAIT)
            job, self._result = self._result, None
            self._cond.notify_all()
        if job is not None:
            self._run_stage('finish', job)
