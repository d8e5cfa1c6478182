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
Entities the executor never serves, so that a node may destroy them while it spins.

A multithreaded rclpy executor builds its wait set and takes messages on one
thread while callbacks run on others. A callback that destroys a
subscription or publisher it serves (a lifecycle transition, a QoS change
that re-subscribes) can make that thread use the destroyed entity: rclpy
raises InvalidHandle inside spin and the node dies. Kilted and Jazzy catch it
for a subscription's take but not for QoS event handlers (seen: a depth
subscription's "incompatible QoS" event, re-subscribed best effort, ended the
node in 1 of 8 runs beside two CPU hogs); Humble catches it nowhere.

So everything created and destroyed while a node runs sits in
``NEVER_EXECUTED``: the executor never waits on it, never takes from it,
never runs its event handlers. Subscriptions are read by threads of their
own (``take``, ``SubscriptionWaiter``, ``TopicReader``), which tolerate
the destruction; a publisher's QoS events go unreported here (the
subscriber's side reports an incompatible QoS too).
"""

from contextlib import ExitStack
import threading

from rclpy.callback_groups import CallbackGroup
from rclpy.exceptions import InvalidHandle
# The wait set rclpy's own wait_for_message() uses.
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy


class _NeverExecuted(CallbackGroup):
    """A callback group the executor leaves alone: its entities are served elsewhere."""

    def add_entity(self, entity):
        pass  # nothing to track; rclpy's set would keep a dead reference per re-subscription

    def can_execute(self, entity):
        return False

    def beginning_execution(self, entity):
        return False

    def ending_execution(self, entity):
        pass


NEVER_EXECUTED = _NeverExecuted()


def unused(*args):
    """Stand-in callback: the executor never calls it."""


def subscriber_count(publisher):
    """
    Return how many subscriptions ``publisher`` reaches; 0 once it is destroyed.

    For readers beside the thread that destroys it (the diagnostics timer
    during a cleanup).
    """
    try:
        return publisher.get_subscription_count()
    except InvalidHandle:
        return 0


def take(subscription):
    """Return (message, info) from ``subscription``, or None (nothing there, or destroyed)."""
    try:
        with subscription.handle:
            return subscription.handle.take_message(subscription.msg_type, subscription.raw)
    except InvalidHandle:
        return None


class SubscriptionWaiter:
    """``wait_for(subscriptions, timeout)`` on several subscriptions; ``interrupt()`` ends it."""

    def __init__(self, node, capacity):
        self._node = node
        self._guard = node.create_guard_condition(unused, callback_group=NEVER_EXECUTED)
        self._wait_set = _rclpy.WaitSet(capacity, 1, 0, 0, 0, 0, node.context.handle)

    def wait_for(self, subscriptions, timeout):
        """Block until a message may be there on one of them, ``interrupt()`` or timeout."""
        try:
            with ExitStack() as handles:
                handles.enter_context(self._guard.handle)
                self._wait_set.clear_entities()
                self._wait_set.add_guard_condition(self._guard.handle)
                for subscription in filter(None, subscriptions):
                    handles.enter_context(subscription.handle)
                    self._wait_set.add_subscription(subscription.handle)
                self._wait_set.wait(int(timeout * 1e9))
        except InvalidHandle:
            pass

    def interrupt(self):
        try:
            self._guard.trigger()
        except InvalidHandle:
            pass

    def destroy(self):
        self._node.destroy_guard_condition(self._guard)


class TopicReader:
    """
    A few subscriptions read by a thread of their own: each message goes to its callback.

    ``topics`` are (msg_type, topic, qos, callback, raw). A callback runs on the
    reader's thread; what it or the take raises (a message that does not
    deserialize) is reported through ``warn(kind, message)`` and the reading
    goes on. ``close()`` ends the thread and destroys the
    subscriptions, from any thread.
    """

    def __init__(self, node, topics, warn, name):
        self._node, self._warn = node, warn
        self._subscriptions = [
            (node.create_subscription(msg_type, topic, unused, qos,
                                      callback_group=NEVER_EXECUTED, raw=raw), callback)
            for msg_type, topic, qos, callback, raw in topics]
        self._waiter = SubscriptionWaiter(node, len(self._subscriptions))
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        subscriptions = [s for s, _ in self._subscriptions]
        while not self._closing:
            try:
                self._waiter.wait_for(subscriptions, 1.0)
            except Exception:  # noqa: B902  the context ended under a close that timed out
                return
            for subscription, callback in self._subscriptions:
                try:
                    taken = None if self._closing else take(subscription)
                    if taken is not None:
                        callback(taken[0])
                except Exception as err:  # noqa: B902  one bad message must not end the reading
                    self._warn(f'{subscription.topic_name} failed',
                               f'{subscription.topic_name}: {type(err).__name__}: {err}')

    def close(self, timeout=2.0):
        self._closing = True
        self._waiter.interrupt()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)  # a callback in progress ends within it
        for subscription, _ in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._waiter.destroy()
