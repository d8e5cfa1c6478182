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
The deeplab node (managed): one model for one or several cameras.

It only orchestrates: configure reads the parameters (``parameters.py``),
loads the model and builds one ``CameraInput`` per camera (its subscription,
decoding, counters, outputs and cloud); activate subscribes and starts the
frame pipeline (``frame_pipeline.py``), which serves the cameras in turn;
deactivate unsubscribes and stops it (no inference, no output); cleanup
releases the model. With ``autostart`` (the default) it configures and
activates itself at start. ``/diagnostics`` come from ``diagnostics.py``.
"""

import sys
import threading
import time
from typing import Callable

import cv2
from deeplab_ros.engine.datasets import get_dataset
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.node.camera_input import CameraInput
from deeplab_ros.node.camera_subscription import FrameWaiter
from deeplab_ros.node.diagnostics import diagnostics
from deeplab_ros.node.label_info import latch_labels
from deeplab_ros.node.lifecycle_services import TransitionGuard
from deeplab_ros.node.settings import class_ids, PARAMETERS, refusal, settings_of, updated
from deeplab_ros.pipeline.frame_pipeline import FramePipeline
from deeplab_ros.pipeline.model_stages import ModelStages
from deeplab_ros.pipeline.throttled_log import ThrottledLog
from deeplab_ros.ros.parameters import declare, on_parameters, read
from deeplab_ros.ros.qos import LATCHED
from deeplab_ros.ros.ros_main import run_node
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn

STOP_TIMEOUT = 10.0  # deactivate waits this long for a frame in a stage, then leaves it
STOP_TIMEOUT_AT_EXIT = 1.0
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class StartError(RuntimeError):
    """The node could not configure itself at start; the message is the reason."""


class DeepLabNode(LifecycleNode):
    """Segments the newest frame of each camera and publishes what subscribers ask for."""

    def __init__(self, load: Callable = load_model, **kwargs):
        """``load``: the model loader (``load_model``; a test or benchmark passes its own)."""
        super().__init__('deeplab', **kwargs)
        self._load = load
        declare(self, PARAMETERS, managed=True)
        self.settings = None
        self.model = self.dataset = self.pipeline = None
        self.cameras = []
        self._label_pubs = []
        self._waiter = None
        self._config_error = self._loading = None  # loading: (model, start) in configure
        self._starting = False
        self._stop_timeout = STOP_TIMEOUT
        self._log = ThrottledLog(self.get_logger())
        self._transitions = TransitionGuard(self)
        on_parameters(self, PARAMETERS, self._validate_parameters, self._apply_parameters)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        # Timers on the steady clock: with use_sim_time and no /clock (a bag played
        # without --clock) ROS time stands still, and they must still run. Its own
        # callback group: another executor thread runs it while a transition (configure
        # loading a big model) holds the default group.
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0, self._publish_diagnostics, clock=self._steady,
                          callback_group=MutuallyExclusiveCallbackGroup())
        # With qos: auto, while active, subscriptions follow their publishers' QoS. The
        # timer lives as long as the node: the executor serves it (ros/unserved.py).
        self._following = False
        self._follow_lock = threading.Lock()  # a tick and a transition's stop exclude each other
        self.create_timer(0.5, self._follow_publishers, clock=self._steady)

    # Start and stop (ros_main.run_node) ------------------------------------------

    def start(self):
        """With ``autostart``, configure and activate; a failed configure raises StartError."""
        if not self.get_parameter('autostart').value:
            self.get_logger().info('unconfigured; configure and activate with '
                                   f'`ros2 lifecycle set {self.get_fully_qualified_name()} '
                                   'configure` (then activate)')
            return
        self._starting = True  # a failed configure is then the one fatal line of run_node
        try:
            with self._transitions:
                configured = self.trigger_configure()
                activated = configured == SUCCESS and self.trigger_activate() == SUCCESS
        finally:
            self._starting = False
        if configured != SUCCESS:
            raise StartError(self._config_error)
        if not activated:
            raise StartError('activation failed')

    def close(self):
        """Shut down from any state: threads joined, subscriptions and model released."""
        # The process is ending: a frame stuck in a slow stage must not hold it for long
        # (the worker threads are daemons and end with it). A transition still running
        # (a configure asked for by a service) is left to end with the process.
        self._stop_timeout = STOP_TIMEOUT_AT_EXIT
        locked = self._transitions.acquire(timeout=STOP_TIMEOUT_AT_EXIT)
        try:
            if locked and self.state in ('unconfigured', 'inactive', 'active'):
                self.trigger_shutdown()
        finally:
            if locked:
                self._transitions.release()
            self._release()

    @property
    def state(self) -> str:
        """Return the lifecycle state label: unconfigured, inactive, active, finalized, ..."""
        return self._state_machine.current_state[1]

    # Lifecycle transitions --------------------------------------------------------
    # rclpy turns an exception in a transition into a silent ERROR, so each
    # callback catches and logs what goes wrong.

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            self._configure()
        except (ModelLoadError, ValueError, OSError) as err:
            self._config_error = str(err)
        except Exception as err:  # noqa: B902  any failure leaves the node unconfigured
            self._config_error = f'{type(err).__name__}: {err}'
        else:
            self._config_error = None
            return SUCCESS
        self._release()
        if not self._starting:
            self.get_logger().error(f'cannot configure: {self._config_error}')
        return FAILURE

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        try:
            for camera in self.cameras:
                camera.start(self.settings.qos)
            with self._follow_lock:
                self._following = self.settings.qos == 'auto'
            self._follow_publishers()
            self.pipeline.start()
        except Exception as err:  # noqa: B902
            self.get_logger().error(f'cannot activate: {err}')
            self._stop_input()
            return FAILURE
        self.get_logger().info('active: segmenting ' + ', '.join(c.topic for c in self.cameras))
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self._stop_input()
        self.get_logger().info('inactive: no inference and no output until activated again')
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        self.get_logger().info('unconfigured: model released')
        return SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def on_error(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def _configure(self):
        # The model uses every core; OpenCV's own worker threads would only contend with
        # it (measured: a 640x480 INTER_AREA resize costs 3.1 ms CPU on two threads, 2.3 on one).
        cv2.setNumThreads(1)
        s = settings_of(read(self, PARAMETERS))
        source = s.model_path or s.model_name
        self.get_logger().info(f'loading model {source}')
        self._loading = (source, time.monotonic())
        try:
            self.model = self._load(source, s.input_tensor, s.output_tensor, s.device,
                                    s.num_threads)
        finally:
            self._loading = None
        self.dataset = get_dataset(self.model.dataset if s.dataset == 'auto' else s.dataset,
                                   s.labels_file)
        # Read again: live parameters may have changed during the load, unchecked (the
        # class names need the dataset); the read-only ones were refused meanwhile.
        s = settings_of(read(self, PARAMETERS))
        self.settings = updated(s, class_ids(self.dataset, mask_classes=s.mask_classes,
                                             cloud_classes=s.cloud_classes))
        if not self.model.has_confidence:
            self.get_logger().info(f'no ~/confidence: {self.model.why_no_confidence}')
        self.cameras = [CameraInput(self, name, s, self.model.has_confidence, self._log.warn,
                                    self._wake) for name in s.cameras or ('',)]
        self._label_pubs = latch_labels(self, self.dataset.class_names, LATCHED)
        self._waiter = FrameWaiter(self, len(self.cameras))
        stages = ModelStages(self.model, self.dataset, self._log.warn,
                             lambda: self.get_clock().now().nanoseconds)
        self.pipeline = FramePipeline(stages.prepare, stages.infer, stages.finish,
                                      lambda: self.settings, stages.on_error,
                                      wanted=lambda camera, settings: camera.wanted(settings))
        self.pipeline.set_sources(self.cameras, self._waiter)
        size = self.model.fixed_size or f'longest side {s.input_size or self.model.input_size}'
        self.get_logger().info(
            f'model {source} ({self.model.file_format}), dataset {self.dataset.name} '
            f'({self.dataset.num_classes} classes), input {size}, device {self.model.device}, '
            f'qos {s.qos}; ' + '; '.join(c.describe(self.settings) for c in self.cameras))

    def _stop_input(self):
        """Stop the pipeline (joined) and unsubscribe: nothing runs, nothing arrives."""
        with self._follow_lock:
            self._following = False
        if self.pipeline is not None:
            self.pipeline.stop(self._stop_timeout)
        for camera in self.cameras:
            camera.stop()

    def _release(self):
        """Back to unconfigured: input stopped, publishers destroyed, model dropped."""
        self._stop_input()
        if self.pipeline is not None:
            self.pipeline.set_sources([])
        for camera in self.cameras:
            camera.destroy()
        self.cameras = []
        if self._waiter is not None:
            self._waiter.destroy()
            self._waiter = None
        for publisher in self._label_pubs:
            self.destroy_publisher(publisher)
        self._label_pubs = []
        self.model = self.dataset = self.pipeline = None

    def _wake(self):
        if self.pipeline is not None:
            self.pipeline.wake()

    def _follow_publishers(self):
        with self._follow_lock:
            if self._following:
                for camera in self.cameras:
                    camera.match_publisher_qos()

    # Parameters -------------------------------------------------------------

    def _validate_parameters(self, params):
        reason = refusal({p.name: p.value for p in params},
                         {p.name: p.value for p in self.get_parameters(PARAMETERS)},
                         self.state != 'unconfigured', self.get_fully_qualified_name(),
                         self.dataset)
        return SetParametersResult(successful=reason is None, reason=reason or '')

    def _apply_parameters(self, params):
        values = {p.name: p.value for p in params}
        if self.settings is not None:
            self.settings = updated(self.settings, {**values, **class_ids(
                self.dataset, **{n: v for n, v in values.items() if n.endswith('_classes')})})
        self._wake()  # a new rate applies to the wait already started
        self.get_logger().info('parameters updated: ' + ', '.join(
            f'{p.name}={p.value}' for p in params))

    # Diagnostics ------------------------------------------------------------

    def _publish_diagnostics(self):
        self._diag_pub.publish(diagnostics(
            self, list(self.cameras), self.model, self.dataset, self.settings, self.pipeline,
            self._config_error, self._loading,
            clock_missing=self.get_parameter('use_sim_time').value
            and self.get_clock().now().nanoseconds == 0))


def main(args=None, load: Callable = load_model):
    # A node shut down through its lifecycle (finalized) has nothing left to do: it exits.
    # Two executor threads: diagnostics and the lifecycle queries keep answering while
    # a transition (configure: loading a big model) holds the other.
    return run_node(lambda: DeepLabNode(load), args, startup_errors=(StartError,),
                    finished=lambda node: node.state == 'finalized', threads=2)


if __name__ == '__main__':
    sys.exit(main())
