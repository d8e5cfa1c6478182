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

from conftest import wait_for
from deeplab_ros.pipeline.frame_pipeline import FramePipeline, PipelineBusy
import pytest


class MemorySource:
    """A source like a camera subscription: one slot, the newest frame wins."""

    def __init__(self, cond, name='camera'):
        self._cond = cond
        self._frame = None
        self.name = name
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

    def has_frame(self):
        return self._frame is not None


class MemoryWaiter:
    """Waits on memory sources sharing its condition, like the node's wait set."""

    def __init__(self):
        self.cond = threading.Condition()

    def wait(self, sources, timeout):
        with self.cond:
            if not any(source.has_frame() for source in sources):
                self.cond.wait(timeout)

    def interrupt(self):
        with self.cond:
            self.cond.notify_all()


class Settings:
    """The live settings: the pipeline reads ``rate``; the test's ``wanted`` set."""

    def __init__(self, rate=0.0, wanted=True):
        self.rate, self.wanted = rate, wanted


class FakeClock:
    """The pipeline's monotonic clock, moved by the test (``now``, in seconds)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Recorder:
    """
    Stages that record what passed; ``gate`` holds the model until released.

    ``reads`` counts the pipeline's looks at its settings: one per pass over the cameras.
    """

    def __init__(self, rate=0.0, fail=None, cameras=1, clock=time.monotonic):
        self.settings = Settings(rate)
        self.clock = clock
        self.reads = 0
        self.fail = fail or {}
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.finished = []
        self.served = []  # the camera of each finished frame
        self.errors = []
        self.waiter = MemoryWaiter()
        self.sources = [MemorySource(self.waiter.cond, f'camera{i}') for i in range(cameras)]
        self.source = self.sources[0]
        self.pipeline = FramePipeline(self.prepare, self.infer, self.finish,
                                      self.read_settings, self.on_error,
                                      wanted=lambda source, settings: settings.wanted,
                                      clock=clock)
        self.pipeline.set_sources(self.sources, self.waiter)

    def read_settings(self):
        self.reads += 1
        return self.settings

    def looked_again(self, times=2):
        """Wake the pipeline until it has passed over its cameras ``times`` more times."""
        start = self.reads
        return wait_for(lambda: self.pipeline.wake() or self.reads >= start + times, 5.0)

    def _maybe_fail(self, stage, job):
        if stage in self.fail and job.frame.startswith(self.fail[stage]):
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
        self.served.append(job.source.name)

    def on_error(self, stage, err, job):
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
    rec = recorder(clock=FakeClock())
    rec.settings.wanted = False
    rec.source.put('first')               # sampled: taken and dropped unseen
    assert wait_for(lambda: rec.source.taken == 1, 5.0)
    rec.source.put('unwanted')
    assert rec.looked_again()
    assert rec.source.taken == 1 and not rec.finished
    rec.clock.now += 1.0                  # a second later: sampled again
    assert wait_for(lambda: rec.source.taken == 2, 5.0) and not rec.finished
    rec.source.put('wanted')
    rec.settings.wanted = True         # someone subscribed
    assert rec.wait_finished(1, timeout=2.0) == ['wanted']


def test_a_rate_change_applies_to_the_wait_already_started(recorder):
    rec = recorder(rate=0.01, clock=FakeClock())  # one frame every 100 s
    rec.source.put('first')
    assert rec.wait_finished(1) == ['first']
    rec.source.put('second')
    rec.clock.now += 0.5
    assert rec.looked_again()
    assert rec.finished == ['first'] and rec.source.taken == 1  # held back by the rate
    rec.settings.rate = 50.0
    rec.pipeline.wake()
    assert rec.wait_finished(2, timeout=3.0) == ['first', 'second']


def test_an_absurd_period_neither_crashes_nor_blocks_stop(recorder):
    rec = recorder(rate=1e-12)          # 1e12 s: would overflow a single timed wait
    rec.source.put('first')
    assert rec.wait_finished(1) == ['first']
    rec.source.put('second')
    assert rec.looked_again()
    assert rec.pipeline.alive and not rec.errors
    started = time.monotonic()
    rec.pipeline.stop()
    assert time.monotonic() - started < 3.0
    assert not rec.pipeline.running


@pytest.mark.parametrize('stage', ['prepare', 'infer', 'finish'])
def test_an_error_in_any_stage_is_reported_and_the_next_frame_served(recorder, stage):
    rec = recorder(fail={stage: 'bad'})
    rec.source.put('bad')
    assert wait_for(lambda: rec.errors, 5.0)
    assert rec.errors == [(stage, f'{stage} broke on bad')]
    assert rec.pipeline.errors == {stage: 1}
    rec.source.put('good')
    assert rec.wait_finished(1) == ['good']
    assert rec.pipeline.alive


def test_an_error_in_the_settings_does_not_kill_a_thread(recorder):
    rec = recorder()
    rec.settings = None                 # settings() now raises TypeError
    rec.source.put('x')
    assert wait_for(lambda: rec.errors, 5.0)
    assert rec.errors and rec.errors[0][0] == 'internal'
    rec.settings = Settings()
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
    assert not names & {'deeplab_prepare', 'deeplab_infer', 'deeplab_output'}
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


# Several cameras, one model ---------------------------------------------------------


def feed(sources_and_periods, stop):
    """Put numbered frames on each source at its period until ``stop`` is set."""
    def run(source, period):
        number = 0
        while not stop.is_set():
            number += 1
            source.put(f'{source.name}:{number}')
            stop.wait(period)
    threads = [threading.Thread(target=run, args=item, daemon=True)
               for item in sources_and_periods]
    for thread in threads:
        thread.start()
    return threads


def served_counts(rec, frames, timeout=20.0):
    """Let ``frames`` frames finish; return how many each camera got, by name."""
    assert len(rec.wait_finished(frames, timeout)) >= frames
    served = rec.served[:frames]
    return {source.name: served.count(source.name) for source in rec.sources}


def slow_model(rec, seconds):
    def infer(job):
        time.sleep(seconds)
    rec.pipeline._stages['infer'] = infer


@pytest.mark.parametrize('periods', [(0.001, 0.001, 0.001), (0.001, 0.01, 0.01)],
                         ids=['equal rates', 'one camera at 10x'])
def test_cameras_with_frames_waiting_are_served_in_turn(recorder, periods):
    rec = recorder(cameras=3)
    slow_model(rec, 0.01)  # slower than any camera: every camera always has a frame
    stop = threading.Event()
    feed(zip(rec.sources, periods), stop)
    try:
        counts = served_counts(rec, 60)
    finally:
        stop.set()
    assert min(counts.values()) >= 0.8 * max(counts.values()), counts
    for name, frame in zip(rec.served, rec.finished):
        assert frame.startswith(name + ':')  # each job keeps its own camera's frame


def test_a_camera_that_stops_or_fails_does_not_hold_the_others(recorder):
    rec = recorder(cameras=3, fail={'prepare': 'camera2:'})  # every camera2 frame is bad
    stop = threading.Event()
    feed([(rec.sources[0], 0.005), (rec.sources[2], 0.002)], stop)  # camera1 never sends
    try:
        assert len(rec.wait_finished(20, timeout=10)) >= 20
    finally:
        stop.set()
    assert set(rec.served) == {'camera0'}
    assert rec.errors and all(stage == 'prepare' for stage, _ in rec.errors)


def test_the_rate_limits_each_camera_not_the_node():
    clock = FakeClock()
    rec = Recorder(rate=1.0, cameras=2, clock=clock)   # not started: this test takes
    pipeline, front = rec.pipeline, rec.sources[0]
    for source in rec.sources:
        source.put(source.name)
    first, second = pipeline._take(), pipeline._take()
    assert {first.source.name, second.source.name} == {'camera0', 'camera1'}  # both at once
    front.put('front again')
    clock.now = 0.5                       # half a period: front must wait, the other has none
    taken = []
    taker = threading.Thread(target=lambda: taken.append(pipeline._take()), daemon=True)
    taker.start()
    assert rec.looked_again()
    assert taker.is_alive() and front.taken == 1  # held back by front's own period
    clock.now = 1.0
    assert wait_for(lambda: taken, 5.0) and taken[0].frame == 'front again'
    taker.join(3)
