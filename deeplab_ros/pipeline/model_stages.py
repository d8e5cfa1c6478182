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
The frame pipeline's three stages for one model and every camera.

prepare decodes the camera's frame and makes the model batch; infer runs the
model (with the confidence only while someone wants it); finish publishes the
frame's outputs through its camera. A frame that fails is counted on its own
camera and named in one throttled warning. Each frame carries its settings,
so nothing shared is changed per frame (the input size goes with the frame).
"""

import time
from typing import Callable

from deeplab_ros.engine.segmenter import Segmenter


class ModelStages:
    """``prepare``, ``infer``, ``finish`` and ``on_error`` of the pipeline, over one model."""

    def __init__(self, model, dataset, warn: Callable, now_ns: Callable):
        self._model, self._dataset = model, dataset
        self._segmenter = Segmenter(model)  # infer and finish need no input size
        self._warn = warn
        self._now_ns = now_ns  # the node's clock (ROS time: stamps and latency use it)

    def prepare(self, job):
        job.header, job.image, job.order = job.source.decode(job.frame)
        job.prepared = Segmenter(self._model, job.settings.input_size or None).prepare(
            job.image, job.order)

    def infer(self, job):
        started = time.monotonic()
        if job.source.outputs.needs_confidence(job.wanted):
            job.labels, job.confidence = self._segmenter.infer(job.prepared, True)
        else:
            job.labels = self._segmenter.infer(job.prepared)
        job.source.stats.inferred(time.monotonic() - started)

    def finish(self, job):
        job.source.publish(job, self._segmenter, self._dataset, self._now_ns())

    def on_error(self, stage, err, job):
        camera = job.source if job is not None else None
        topic = camera.topic if camera is not None else 'a camera'
        if stage == 'prepare' and isinstance(err, ValueError):
            camera.stats.bad_frame()
            self._warn(f'{topic} frame: {getattr(err, "kind", type(err).__name__)}',
                       f'dropped a frame from {topic}: {err}')
            return
        if camera is not None:
            camera.stats.failed()
        self._warn(f'{stage}: {type(err).__name__}',
                   f'dropped a frame from {topic}: {stage} failed: {type(err).__name__}: {err}')
