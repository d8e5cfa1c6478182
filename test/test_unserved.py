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
The executor serves only what lives as long as the node (ros/unserved.py).

The node spins on a multithreaded executor; an entity it serves and a transition
or a QoS change destroys can end the node with InvalidHandle (a reliable depth
subscription's QoS event did, re-subscribed best effort: 1 run in 8 beside two
CPU hogs). These tests hold the rule itself, which a timing test cannot.
"""

import threading

from conftest import wait_for
import pytest

pytestmark = pytest.mark.ros


def served(node):
    """Return {id: entity} of the entities of ``node`` that its executor may serve."""
    from deeplab_ros.ros.unserved import NEVER_EXECUTED
    entities = (node.subscriptions, node.timers, node.waitables, node.guards, node.services,
                node.clients)
    # The entities are kept: an id is then nobody else's while the dict lives.
    return {id(e): e for group in entities for e in group
            if e.callback_group is not NEVER_EXECUTED}


def reliability_of_subscribers(peer, topic):
    return sorted(info.qos_profile.reliability.name for info in
                  peer.get_subscriptions_info_by_topic(topic))


@pytest.mark.parametrize('qos, depth_reliability', [('auto', 'BEST_EFFORT'),
                                                    ('reliable', 'RELIABLE')])
def test_transitions_and_following_qos_leave_what_the_executor_serves_alone(
        ros_context, pascal_model, qos, depth_reliability):
    import rclpy
    from deeplab_ros.node.deeplab_node import DeepLabNode
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    SUCCESS = TransitionCallbackReturn.SUCCESS
    node = DeepLabNode(context=ros_context, parameter_overrides=[
        Parameter('autostart', value=False), Parameter('model_path', value=str(pascal_model)),
        Parameter('cloud', value=True), Parameter('cameras', value=['front', 'rear']),
        Parameter('qos', value=qos)])
    peer = rclpy.create_node('peer', context=ros_context)
    # A reliable camera with a best-effort depth camera: with qos auto, activating
    # subscribes depth reliable (as the camera), then again best effort (as the depth).
    peer.create_publisher(Image, '/front/image', QoSProfile(depth=1))
    peer.create_publisher(Image, '/front/depth', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    executor = MultiThreadedExecutor(num_threads=2, context=ros_context)
    executor.add_node(node)
    spinning = threading.Thread(target=executor.spin, daemon=True)
    spinning.start()
    try:
        before = served(node)
        assert node.trigger_configure() == SUCCESS and node.state == 'inactive'
        assert served(node).keys() == before.keys()
        assert len(peer.get_publishers_info_by_topic('/deeplab/front/label_map')) == 1
        assert node.trigger_activate() == SUCCESS and node.state == 'active'
        assert wait_for(lambda: reliability_of_subscribers(peer, '/front/depth')
                        == [depth_reliability], 10), reliability_of_subscribers(
                            peer, '/front/depth')
        assert reliability_of_subscribers(peer, '/front/image') == ['RELIABLE']
        assert served(node).keys() == before.keys()
        assert node.trigger_deactivate() == SUCCESS and node.state == 'inactive'
        assert reliability_of_subscribers(peer, '/front/depth') == []
        front = node.cameras[0]
        assert node.trigger_cleanup() == SUCCESS and node.state == 'unconfigured'
        # What the diagnostics timer reads beside a cleanup: destroyed, it reads as no one.
        assert front.outputs.subscribed() == [] and front.cloud.wanted is False
        assert served(node).keys() == before.keys()
        assert wait_for(lambda: peer.get_publishers_info_by_topic(
            '/deeplab/front/label_map') == [], 10)
        for transition in (node.trigger_configure, node.trigger_activate):  # once more
            assert transition() == SUCCESS
        assert served(node).keys() == before.keys()
    finally:
        executor.shutdown()
        spinning.join(5)
        node.close()
        node.destroy_node()
        peer.destroy_node()


def test_a_topic_reader_reads_until_closed_and_closes_under_traffic(ros_context):
    import rclpy
    from deeplab_ros.ros.unserved import TopicReader
    from rclpy.qos import QoSProfile
    from std_msgs.msg import String
    node = rclpy.create_node('reader', context=ros_context)
    publisher = node.create_publisher(String, '/told', QoSProfile(depth=10))
    received, warnings = [], []

    def keep(msg):
        if msg.data == 'bad':
            raise ValueError('cannot use this one')
        received.append(msg.data)

    try:
        for round_ in range(20):  # each reader closed while the publisher keeps sending
            reader = TopicReader(node, [(String, '/told', QoSProfile(depth=10), keep, False)],
                                 lambda kind, message: warnings.append(message), 'reader')
            assert wait_for(lambda: publisher.get_subscription_count() == 1, 10)
            for data in ('bad', f'good {round_}'):
                publisher.publish(String(data=data))
            assert wait_for(lambda: f'good {round_}' in received, 10), received
            reader.close()
            assert wait_for(lambda: publisher.get_subscription_count() == 0, 10)
        assert warnings[0] == '/told: ValueError: cannot use this one'
        assert len(warnings) == 20
    finally:
        node.destroy_node()


def test_the_executor_never_runs_the_events_of_what_it_does_not_serve(ros_context):
    import rclpy
    from deeplab_ros.ros.unserved import NEVER_EXECUTED, take, unused
    from rclpy.event_handler import SubscriptionEventCallbacks
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    node = rclpy.create_node('events', context=ros_context)
    events = {'served': [], 'unserved': []}

    def subscribe(name, group):
        return node.create_subscription(
            String, '/events', unused, QoSProfile(depth=1), callback_group=group,
            event_callbacks=SubscriptionEventCallbacks(
                incompatible_qos=lambda event: events[name].append(event)))

    subscribe('served', None)
    unserved = subscribe('unserved', NEVER_EXECUTED)
    # A best-effort publisher cannot reach a reliable subscription: each gets an event.
    node.create_publisher(String, '/events', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    reliable = node.create_publisher(String, '/events', QoSProfile(depth=1))
    executor = MultiThreadedExecutor(num_threads=2, context=ros_context)
    executor.add_node(node)
    spinning = threading.Thread(target=executor.spin, daemon=True)
    spinning.start()
    try:
        assert wait_for(lambda: events['served'], 10)
        taken = []

        def sent_and_taken():
            reliable.publish(String(data='taken by us'))  # until the match is complete
            taken.append(take(unserved))
            return taken[-1] is not None

        assert wait_for(sent_and_taken, 10)
        assert taken[-1][0].data == 'taken by us'
        assert events['unserved'] == []
    finally:
        executor.shutdown()
        spinning.join(5)
        node.destroy_node()
