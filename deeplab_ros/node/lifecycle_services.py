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
A lifecycle node's services made safe for slow transitions, on every release.

rclpy puts all lifecycle services in the node's default (mutually exclusive)
callback group, so ``ros2 lifecycle get`` waits for a configure that loads a
big model. Here the read-only ones move to a group of their own, answered by
another executor thread meanwhile. ``change_state`` is guarded: a request
arriving while the node runs a transition of its own (the autostart) is
refused, not raced (requests among themselves already wait in the default
group), and a transition that is not valid from the current state is refused
with ``success: false``. On
Humble and Jazzy rclpy raises it from the executor instead, which ends the
node (ros2/rclpy#1209, fixed in Kilted).
"""

import threading

from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

QUERIES = ('get_state', 'get_available_states', 'get_available_transitions',
           'get_transition_graph')


class TransitionGuard:
    """
    Serialize the transitions of ``node`` and keep its lifecycle queries answering.

    ``node`` is a LifecycleNode with a ``state`` property (the state's label).
    Hold the guard (``with guard:``, or ``acquire``/``release``) around a
    transition triggered in code; a ``change_state`` request arriving meanwhile
    is refused.
    """

    def __init__(self, node):
        self._node = node
        self._lock = threading.Lock()
        queries = ReentrantCallbackGroup()
        for service in node.services:
            name = service.srv_name.rsplit('/', 1)[-1]
            if name in QUERIES:
                service.callback_group = queries
                queries.add_entity(service)
            elif name == 'change_state':
                service.callback = self._guarded(service.callback)

    def acquire(self, timeout=-1):
        """Wait up to ``timeout`` s (forever if negative) for the guard; return whether held."""
        return self._lock.acquire(timeout=timeout)

    def release(self):
        self._lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def _guarded(self, change_state):
        def guarded(request, response):
            wanted = request.transition.label or f'id {request.transition.id}'
            if not self._lock.acquire(blocking=False):
                return self._refused(response, f'transition {wanted} refused: another '
                                               'transition is in progress')
            try:
                return change_state(request, response)
            except _rclpy.RCLError:
                return self._refused(response, f'transition {wanted} refused: not valid '
                                               f'from state {self._node.state}')
            finally:
                self._lock.release()
        return guarded

    def _refused(self, response, reason):
        self._node.get_logger().warning(reason)
        response.success = False
        return response
