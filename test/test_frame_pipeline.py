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

"""The frame pipeline on its own (no ROS): newest frame, rate, errors, stop and restart."""

import threading
import time

from deeplab_ros.node.frame_pipeline import FramePipeline, PipelineBusy
import pytest


class MemorySource:
    """A source like the camera subscription: one slot, the newest frame wins."""

    def __init__(self):
        self._cond = threading.Condition()
        self._frame = None
        self.taken = 0

    def put(self, frame):
        """Store ``frame``; return True when it replaced one never taken."""
        with self._cond:
            replaced, self._frame = self._frame is not None, frame
            self._cond.notify_all()
        return replaced

    def take(self):
        with self._cond:
            frame, self._frame = self._frame, None
        self.taken += frame is not None
        return frame

    def wait(self, timeout):
        with self._cond:
            if self._frame is None:
                self._cond.wait(timeout)

    def interrupt(self):
        with self._cond:
            self._cond.notify_all()


class Recorder:
    """Stages that record what passed; ``gate`` holds the model until released."""

    def __init__(self, rate=0.0, fail=None):
        self.settings = {'rate': rate, 'wanted': True}
        self.fail = fail or {}
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.finished = []
        self.errors = []
        self.source = MemorySource()
        self.pipeline = FramePipeline(self.prepare, self.infer, self.finish,
                                      lambda: dict(self.settings), self.on_error,
                                      wanted=lambda settings: settings['wanted'])
        self.pipeline.set_source(self.source)

    def _maybe_fail(self, stage, job):
        if self.fail.get(stage) == job.frame:
            raise ValueError(f'{stage} broke on {job.frame}')

    def prepare(self, job):
        self._maybe_fail('prepare', job)

    def infer(self, job):
        self.entered.set()
        self.gate.wait(10)
        self._maybe_fail('infer', job)

    def finish(self, job):
        self._maybe_fail('finish', job)
        self.finished.append(job.frame)

    def on_error(self, stage, err):
        self.errors.append((stage, str(err)))

    def wait_finished(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.finished) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return list(self.finished)


@pytest.fixture
def recorder():
    made = []

    def make(**kwargs):
        made.append(Recorder(**kwargs))
        made[-1].pipeline.start()
        return made[-1]
    yield make
    for rec in made:
        rec.gate.set()
        rec.pipeline.stop()


def test_only_the_newest_frame_waits(recorder):
    rec = recorder()
    rec.gate.clear()
    assert rec.source.put('a') is False
    assert rec.entered.wait(5)          # 'a' is in the model
    assert rec.source.put('b') is False
    assert rec.source.put('c') is True  # 'b' was never taken: replaced
    rec.gate.set()
    assert rec.wait_finished(2) == ['a', 'c']


def test_unwanted_frames_are_not_taken_but_sampled_once_a_second(recorder):
    rec = recorder()
    rec.settings['wanted'] = False
    rec.source.put('first')               # sampled: taken and dropped unseen
    time.sleep(0.3)
    assert rec.source.taken == 1
    rec.source.put('unwanted')
    time.sleep(0.3)
    assert rec.source.taken == 1 and not rec.finished
    rec.settings['wanted'] = True         # someone subscribed
    assert rec.wait_finished(1, timeout=2.0) == ['unwanted']


def test_a_rate_change_applies_to_the_wait_already_started(recorder):
    rec = recorder(rate=0.01)           # one frame every 100 s
    rec.source.put('first')
    assert rec.wait_finished(1) == ['first']
    rec.source.put('second')
    time.sleep(0.3)
    assert rec.finished == ['first']    # held back by the rate
    rec.settings['rate'] = 50.0
    rec.pipeline.wake()
    assert rec.wait_finished(2, timeout=3.0) == ['first', 'second']


def test_an_absurd_period_neither_crashes_nor_blocks_stop(recorder):
    rec = recorder(rate=1e-12)          # 1e12 s: would overflow a single timed wait
    rec.source.put('first')
    assert rec.wait_finished(1) == ['first']
    rec.source.put('second')
    time.sleep(0.2)
    assert rec.pipeline.alive and not rec.errors
    started = time.monotonic()
    rec.pipeline.stop()
    assert time.monotonic() - started < 3.0
    assert not rec.pipeline.running


@pytest.mark.parametrize('stage', ['prepare', 'infer', 'finish'])
def test_an_error_in_any_stage_is_reported_and_the_next_frame_served(recorder, stage):
    rec = recorder(fail={stage: 'bad'})
    rec.source.put('bad')
    deadline = time.monotonic() + 5
    while not rec.errors and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rec.errors == [(stage, f'{stage} broke on bad')]
    assert rec.pipeline.errors == {stage: 1}
    rec.source.put('good')
    assert rec.wait_finished(1) == ['good']
    assert rec.pipeline.alive


def test_an_error_in_the_settings_does_not_kill_a_thread(recorder):
    rec = recorder()
    rec.settings = None                 # settings() now raises TypeError
    rec.source.put('x')
    deadline = time.monotonic() + 5
    while not rec.errors and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rec.errors and rec.errors[0][0] == 'internal'
    rec.settings = {'rate': 0.0, 'wanted': True}
    rec.source.put('y')
    assert 'y' in rec.wait_finished(1)
    assert rec.pipeline.alive


def test_stop_joins_both_threads_and_start_resumes(recorder):
    rec = recorder()
    rec.gate.clear()
    rec.source.put('in-flight')
    assert rec.entered.wait(5)
    stopper = threading.Thread(target=rec.pipeline.stop)
    stopper.start()
    time.sleep(0.1)
    rec.gate.set()                      # the model call in flight returns
    stopper.join(5)
    assert not stopper.is_alive() and not rec.pipeline.running
    names = {t.name for t in threading.enumerate()}
    assert not names & {'deeplab_infer', 'deeplab_output'}
    rec.source.put('stale')           # arrives while stopped: replaced before a take
    rec.source.put('after')
    rec.pipeline.start()
    deadline = time.monotonic() + 5
    while 'after' not in rec.finished and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rec.finished[-1] == 'after' and 'stale' not in rec.finished


def test_a_stage_slower_than_stop_never_runs_beside_a_second_inference_thread(recorder):
    """Hardening II, 1: stop() used to forget such a thread, and start() added another."""
    rec = recorder()
    inside, most = [0], [0]
    lock = threading.Lock()
    slow = threading.Event()

    def infer(job):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            slow.wait(10)
        finally:
            with lock:
                inside[0] -= 1
    rec.pipeline._stages['infer'] = infer
    rec.source.put('slow')
    deadline = time.monotonic() + 5
    while rec.pipeline.busy() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.monotonic()
    rec.pipeline.stop(timeout=0.3)
    assert time.monotonic() - started < 2.0        # stop gives up waiting, as deactivate must
    assert rec.pipeline.running                     # but does not forget the thread
    stage, seconds = rec.pipeline.busy()
    assert stage == 'infer' and seconds >= 0.3
    with pytest.raises(PipelineBusy, match=r'the last frame is still in infer after \d+ s'):
        rec.pipeline.start()
    slow.set()                                      # the slow frame ends, its thread with it
    deadline = time.monotonic() + 5
    while rec.pipeline.running and time.monotonic() < deadline:
        rec.pipeline.stop(timeout=0.1)
    rec.pipeline.start()
    rec.source.put('next')
    assert rec.wait_finished(1) == ['next'] and most[0] == 1
