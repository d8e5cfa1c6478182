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

"""Warnings logged at most once per period for each kind of problem, from bounded kinds."""

import threading
import time

WARNING_PERIOD = 5.0  # seconds between warnings of the same kind
MAX_WARNING_KINDS = 64


class ThrottledLog:
    """
    ``warn(kind, text)`` logs ``text`` at most once per WARNING_PERIOD for each kind.

    Kinds are bounded (MAX_WARNING_KINDS, each cut to 64 characters; more
    share one): no input can grow the table or the log without limit.
    """

    def __init__(self, logger, clock=time.monotonic):
        self._logger = logger
        self._clock = clock
        self._last = {}
        self._lock = threading.Lock()  # the worker threads and the executor all warn

    def warn(self, kind: str, text: str):
        kind = kind[:64]
        now = self._clock()
        with self._lock:
            if kind not in self._last and len(self._last) >= MAX_WARNING_KINDS:
                kind = 'other kinds'
            if now - self._last.get(kind, -WARNING_PERIOD) < WARNING_PERIOD:
                return
            self._last[kind] = now
        self._logger.warning(text)
