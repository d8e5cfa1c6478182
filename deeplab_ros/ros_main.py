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
The ``main()`` every node of this package shares, in the ROS 2 Jazzy/Kilted form.

A node that cannot start logs one fatal line and exits 1; Ctrl-C (SIGINT)
and external shutdown end the spin quietly; the node is always cleaned up,
destroyed and ``rclpy.try_shutdown()`` called.
"""

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor


def run_node(make_node, args=None, startup_errors=(), cleanup=None, finished=None):
    """
    Create a node with ``make_node()``, spin it, and return the exit code.

    ``startup_errors``: exception types that mean "cannot start" (one line,
    exit 1). ``cleanup(node)`` runs before the node is destroyed;
    ``finished(node)`` returning true ends the spin (a finite input ran out).
    """
    rclpy.init(args=args)
    try:
        node = make_node()
    except startup_errors as err:
        rclpy.logging.get_logger('deeplab_ros').fatal(f'cannot start: {err}')
        rclpy.try_shutdown()
        return 1
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while rclpy.ok() and not (finished and finished(node)):
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if cleanup:
            cleanup(node)
        executor.remove_node(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
