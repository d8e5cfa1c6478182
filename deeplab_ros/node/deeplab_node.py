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
The deeplab node (managed): camera image in; label map, color mask and overlay out.

configure reads the parameters and loads the model; activate subscribes and
starts the frame pipeline (``frame_pipeline.py``); deactivate unsubscribes
and stops it (no inference, no output); cleanup releases the model. With
``autostart`` (the default) it configures and activates itself at start.

Images travel serialized: the pipeline takes the newest frame from the
subscription only when it is ready for one (``frame_source.py``), so a frame
it drops never reaches Python, the one it takes is read without
deserializing, and outputs are published as bytes built in one join
(``image_cdr.py``).
"""

import json
import sys
import time

import cv2
from deeplab_ros.engine.datasets import get_dataset
from deeplab_ros.engine.model_loading import load_model, ModelLoadError
from deeplab_ros.engine.segmenter import Segmenter
from deeplab_ros.engine.visualize import colorize, overlay
from deeplab_ros.node.cloud_output import CloudOutput
from deeplab_ros.node.frame_pipeline import FramePipeline
from deeplab_ros.node.frame_source import SubscriptionSource
from deeplab_ros.node.image_cdr import serialize_image
from deeplab_ros.node.image_encoding import compressed_to_array, header_of, image_to_array, \
    image_view
from deeplab_ros.node.lifecycle_services import TransitionGuard
from deeplab_ros.node.parameters import check, declare, on_parameters, PARAMETERS, read, \
    value_of
from deeplab_ros.node.ros_main import run_node
from deeplab_ros.node.stats import health, NodeStats
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

WARNING_PERIOD = 5.0  # seconds between warnings of the same kind
SILENT_CAMERA_WARNING = 5.0  # seconds of silence from a best-effort camera before a hint
STOP_TIMEOUT = 10.0  # deactivate waits this long for a frame in a stage, then leaves it
STOP_TIMEOUT_AT_EXIT = 1.0
MAX_WARNING_KINDS = 64
OUTPUTS = ('label_map', 'color_mask', 'overlay', 'class_mask')
# image_transport's compressed topics: <output>/compressed, with its format strings.
COMPRESSED = {'label_map': ('.png', 'mono8; png compressed mono8'),  # lossless: ids survive
              'color_mask': ('.jpg', 'rgb8; jpeg compressed bgr8'),
              'overlay': ('.jpg', 'rgb8; jpeg compressed bgr8')}
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


def image_qos(reliability):
    """Image QoS: newest frame only (depth 1), volatile, with the given reliability."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)


class StartError(RuntimeError):
    """The node could not configure itself at start; the message is the reason."""


class DeepLabNode(LifecycleNode):
    """Segments the newest camera frame and publishes what subscribers ask for."""

    def __init__(self, **kwargs):
        super().__init__('deeplab', **kwargs)
        declare(self, managed=True)
        self._settings = {}
        self.model = self.dataset = self.segmenter = self.pipeline = None
        self._mask_ids = np.zeros(0, np.uint8)
        self._outputs = {}
        self._cloud = None
        self._cloud_ids = np.zeros(0, np.uint8)
        self._labels_pub = self._source = self._qos_timer = None
        self._sub_reliability = self._subscribed_at = self._last_frame = None
        self._progress_at = 0.0  # last output, idle frame or activation (stall detection)
        self._config_error = None
        self._starting = self._compressed = False
        self._warned = {}
        self._stop_timeout = STOP_TIMEOUT
        self.stats = NodeStats()
        self._loading = None  # (model source, monotonic start) while configure loads it
        self._transitions = TransitionGuard(self)
        on_parameters(self, self._validate_parameters, self._apply_parameters)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        # Timers on the steady clock: with use_sim_time and no /clock (a bag played
        # without --clock) ROS time stands still, and they must still run.
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        # Its own callback group: another executor thread runs it while a transition
        # (configure loading a big model) holds the default group.
        self.create_timer(1.0, self._publish_diagnostics, clock=self._steady,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self._topic = self.resolve_topic_name('image')

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
        """Shut down from any state: threads joined, subscription and model released."""
        # The process is ending: a frame stuck in a slow stage must not hold it for long
        # (the worker threads are daemons and end with it).
        self._stop_timeout = STOP_TIMEOUT_AT_EXIT
        # A transition still running (a configure asked for by a service) is left to
        # end with the process.
        locked = self._transitions.acquire(timeout=STOP_TIMEOUT_AT_EXIT)
        try:
            if locked and self.state in ('unconfigured', 'inactive', 'active'):
                self.trigger_shutdown()
        finally:
            if locked:
                self._transitions.release()
            self._release()

    @property
    def state(self):
        """Return the lifecycle state label: unconfigured, inactive, active, finalized, ..."""
        return self._state_machine.current_state[1]

    # Lifecycle transitions --------------------------------------------------------
    # rclpy turns an exception in a transition into a silent ERROR, so each
    # callback catches and logs what goes wrong.

    def on_configure(self, state):
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

    def on_activate(self, state):
        try:
            self.stats = NodeStats()
            self._last_frame = None
            self._progress_at = time.monotonic()
            if self._settings['qos'] == 'auto':
                self._match_publisher_qos()
                self._qos_timer = self.create_timer(0.5, self._match_publisher_qos,
                                                    clock=self._steady)
            else:
                self._subscribe(ReliabilityPolicy.RELIABLE if self._settings['qos'] == 'reliable'
                                else ReliabilityPolicy.BEST_EFFORT)
            self.pipeline.start()
        except Exception as err:  # noqa: B902
            self.get_logger().error(f'cannot activate: {err}')
            self._stop_input()
            return FAILURE
        self.get_logger().info(f'active: segmenting {self._topic}')
        return super().on_activate(state)

    def on_deactivate(self, state):
        self._stop_input()
        self.get_logger().info('inactive: no inference and no output until activated again')
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        self._release()
        self.get_logger().info('unconfigured: model released')
        return SUCCESS

    def on_shutdown(self, state):
        self._release()
        return SUCCESS

    def on_error(self, state):
        self._release()
        return SUCCESS

    def _configure(self):
        # The model uses every core; OpenCV's own worker threads would only contend with
        # it (measured: a 640x480 INTER_AREA resize costs 3.1 ms CPU on two threads, 2.3 on one).
        cv2.setNumThreads(1)
        self._settings = read(self)
        model_source = self._settings['model_path'] or self._settings['model_name']
        self.get_logger().info(f'loading model {model_source}')
        s = self._settings
        self._loading = (model_source, time.monotonic())
        try:
            self.model = load_model(model_source, s['input_tensor'], s['output_tensor'],
                                    s['device'], s['num_threads'])
        finally:
            self._loading = None
        self.dataset = get_dataset(self.model.dataset if s['dataset'] == 'auto'
                                   else s['dataset'], s['labels_file'])
        self.segmenter = Segmenter(self.model, s['input_size'] or None)
        self._mask_ids = self._class_ids(s['mask_classes'])
        reliable = image_qos(ReliabilityPolicy.RELIABLE)
        self._outputs = {name: self.create_lifecycle_publisher(Image, f'~/{name}', reliable)
                         for name in OUTPUTS}
        self._outputs.update({f'{name}/compressed': self.create_lifecycle_publisher(
            CompressedImage, f'~/{name}/compressed', reliable) for name in COMPRESSED})
        self._cloud_ids = self._class_ids(s['cloud_classes'])
        self._cloud = CloudOutput(self, reliable) if s['cloud'] else None
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._labels_pub = self.create_publisher(String, '~/labels', latched)
        self._labels_pub.publish(String(data=json.dumps(
            {str(i): name for i, name in enumerate(self.dataset.class_names)})))
        self._compressed = s['input_transport'] == 'compressed'
        self._topic = self.resolve_topic_name('image') + ('/compressed' if self._compressed
                                                          else '')
        self.pipeline = FramePipeline(self._prepare, self._infer, self._finish,
                                      self._snapshot, self._on_pipeline_error,
                                      wanted=self._wanted_outputs)
        size = self.model.fixed_size or f'longest side {self.segmenter.input_size}'
        self.get_logger().info(
            f'model {model_source} ({self.model.kind}), dataset {self.dataset.name} '
            f'({self.dataset.num_classes} classes), input {size}, device {self.model.device}; '
            f'input {self._topic} (qos {s["qos"]}), outputs '
            + ', '.join(pub.topic_name for pub in self._outputs.values()))

    def _stop_input(self):
        """Stop the pipeline (joined) and unsubscribe: nothing runs, nothing arrives."""
        if self._qos_timer is not None:
            self.destroy_timer(self._qos_timer)
            self._qos_timer = None
        if self.pipeline is not None:
            self.pipeline.stop(self._stop_timeout)
            self.pipeline.set_source(None)
        if self._source is not None:
            self._source.destroy()
            self._source = self._sub_reliability = None
        if self._cloud is not None:
            self._cloud.unsubscribe()

    def _release(self):
        """Back to unconfigured: input stopped, publishers destroyed, model dropped."""
        self._stop_input()
        for publisher in self._outputs.values():
            self.destroy_lifecycle_publisher(publisher)
        self._outputs = {}
        if self._cloud is not None:
            self._cloud.destroy()
            self._cloud = None
        if self._labels_pub is not None:
            self.destroy_publisher(self._labels_pub)
            self._labels_pub = None
        self.model = self.dataset = self.segmenter = self.pipeline = None

    # Parameters -------------------------------------------------------------

    def _class_ids(self, names):
        return np.array([self.dataset.class_id(n) for n in names if str(n).strip()],
                        dtype=np.uint8)

    def _validate_parameters(self, params):
        values = {p.name: p.value for p in params}
        try:
            check(values)
            frozen = [n for n in values if n in PARAMETERS and PARAMETERS[n].read_only]
            if frozen and self.state != 'unconfigured':
                raise ValueError(
                    f'{", ".join(frozen)}: applied at configure, so the node must be '
                    f'unconfigured to change it: `ros2 lifecycle set '
                    f'{self.get_fully_qualified_name()} deactivate`, then cleanup, set it, '
                    'configure and activate')
            for name in ('mask_classes', 'cloud_classes'):
                if name in values and self.dataset is not None:
                    self._class_ids(values[name])
        except ValueError as err:
            return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params):
        for param in params:
            self._settings[param.name] = value_of(param.name, param.value)
            if param.name == 'mask_classes' and self.dataset is not None:
                self._mask_ids = self._class_ids(param.value)
            if param.name == 'cloud_classes' and self.dataset is not None:
                self._cloud_ids = self._class_ids(param.value)
        if self.pipeline is not None:
            self.pipeline.wake()  # a new rate applies to the wait already started
        self.get_logger().info('parameters updated: ' + ', '.join(
            f'{p.name}={p.value}' for p in params))

    def _snapshot(self):
        return {**self._settings, 'mask_ids': self._mask_ids, 'cloud_ids': self._cloud_ids}

    # Subscription -----------------------------------------------------------

    def _subscribe(self, reliability):
        old = self._source
        self._source = SubscriptionSource(self, CompressedImage if self._compressed else Image,
                                          self._topic, image_qos(reliability), self._on_taken)
        self.pipeline.set_source(self._source)
        if old is not None:
            old.destroy()
        if self._cloud is not None:
            self._cloud.subscribe(reliability)
        self._sub_reliability = reliability
        self._subscribed_at = time.monotonic()
        self.get_logger().info(f'subscribed to {self._topic} with '
                               f'{reliability.name.lower()} QoS')

    def _match_publisher_qos(self):
        """Follow the camera: reliable if every publisher is, else best effort."""
        publishers = self.get_publishers_info_by_topic(self._topic)
        if not publishers:
            if self._source is None:
                self.get_logger().info(f'waiting for a publisher on {self._topic}',
                                       once=True)
            return
        wanted = (ReliabilityPolicy.RELIABLE
                  if all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                         for p in publishers) else ReliabilityPolicy.BEST_EFFORT)
        if wanted != self._sub_reliability:
            self._subscribe(wanted)
        elif (wanted == ReliabilityPolicy.BEST_EFFORT and self._last_frame is None
              and time.monotonic() - self._subscribed_at > SILENT_CAMERA_WARNING):
            self.warn_throttled(
                'silent', f'{len(publishers)} best-effort publisher(s) on {self._topic} but '
                'no frame arrived. With the stock Fast DDS transport, best-effort frames '
                'over ~500 KB (640x480 rgb8) are lost between processes: run the camera and '
                'this node with FASTDDS_DEFAULT_PROFILES_FILE (FASTRTPS_ on Jazzy) set to '
                "this package's config/fastdds_large_images.xml, or make the camera reliable.")

    def _on_taken(self, arrived):
        """Count ``arrived`` frames, of which all but the one just taken were replaced unseen."""
        self._last_frame = time.monotonic()
        self.stats.arrived(arrived)

    # Pipeline stages (worker threads) -----------------------------------------

    def warn_throttled(self, kind, text):
        """
        Log ``text``, at most once per WARNING_PERIOD for each kind of problem.

        Kinds are bounded (MAX_WARNING_KINDS, each cut to 64 characters; more
        share one): no input can grow the table or the log without limit.
        """
        kind = kind[:64]
        if kind not in self._warned and len(self._warned) >= MAX_WARNING_KINDS:
            kind = 'other kinds'
        now = time.monotonic()
        if now - self._warned.get(kind, -WARNING_PERIOD) >= WARNING_PERIOD:
            self._warned[kind] = now
            self.get_logger().warning(text)

    def _on_pipeline_error(self, stage, err):
        if stage == 'prepare' and isinstance(err, ValueError):
            self.stats.bad_frame()
            self.warn_throttled(f'frame: {getattr(err, "kind", type(err).__name__)}',
                                f'dropped a frame from {self._topic}: {err}')
        else:
            self.stats.failed()
            self.warn_throttled(f'{stage}: {type(err).__name__}',
                                f'dropped a frame: {stage} failed: {type(err).__name__}: {err}')

    def _decode(self, raw):
        """Turn a serialized message into (header, HxWx3 image, color order)."""
        if not self._compressed:
            view = image_view(raw)
            return (view.header, *image_to_array(view))
        msg = deserialize_message(raw, CompressedImage)
        return (header_of(msg), *compressed_to_array(msg))

    def _wanted_outputs(self, settings):
        """Return ``{output: wanted}``, or None when no output is (the frame is not taken)."""
        wanted = {name: pub.get_subscription_count() > 0 for name, pub in self._outputs.items()}
        for name in ('color_mask', 'color_mask/compressed'):
            wanted[name] &= settings['publish_color_mask']
        for name in ('overlay', 'overlay/compressed'):
            wanted[name] &= settings['publish_overlay']
        wanted['class_mask'] &= len(settings['mask_ids']) > 0
        wanted['points'] = self._cloud is not None and self._cloud.wanted
        if any(wanted.values()):
            return wanted
        self._progress_at = time.monotonic()  # idle by choice is not a stall
        return None

    def _prepare(self, job):
        job.header, job.image, job.order = self._decode(job.frame)
        self.segmenter.input_size = job.settings['input_size'] or self.model.input_size
        job.prepared = self.segmenter.prepare(job.image, job.order)

    def _infer(self, job):
        started = time.monotonic()
        job.labels = self.segmenter.infer(job.prepared)
        self.stats.inferred(time.monotonic() - started)

    def _finish(self, job):
        settings, header, wanted, prepared = job.settings, job.header, job.wanted, job.prepared
        # Masks are made at the model's size and scaled like the labels: same pixels, less work.
        small = self.segmenter.finish(prepared, job.labels, 'model')
        if settings['output_resolution'] == 'input':
            def scaled(array):
                return self.segmenter.to_input_size(prepared, array)
        else:
            def scaled(array):
                return array
        labels = scaled(small)
        self._send(job, 'label_map', labels, 'mono8')
        if wanted['class_mask']:
            marked = np.zeros(256, np.uint8)
            marked[settings['mask_ids']] = 255
            self._outputs['class_mask'].publish(
                serialize_image(header, scaled(cv2.LUT(small, marked)), 'mono8'))
        if any(wanted[name] for name in ('color_mask', 'color_mask/compressed', 'overlay',
                                         'overlay/compressed')):
            color = scaled(colorize(small, self.dataset.colormap))
            self._send(job, 'color_mask', color, 'rgb8')
            if wanted['overlay'] or wanted['overlay/compressed']:
                self._send(job, 'overlay', self._overlay(job.image, job.order, labels, color,
                                                         settings['overlay_alpha']), 'rgb8')
        self._progress_at = time.monotonic()
        stamp = header.nanoseconds
        self.stats.published(
            (self.get_clock().now().nanoseconds - stamp) / 1e9 if stamp else None)
        if wanted['points']:  # last: it may wait for the depth frame of this stamp
            self._cloud.publish(header, labels, self.dataset.colormap, settings)

    def _send(self, job, name, array, encoding):
        """Publish ``array`` on ``~/name`` and ``~/name/compressed``, each if wanted."""
        if job.wanted[name]:
            self._outputs[name].publish(serialize_image(job.header, array, encoding))
        if job.wanted[f'{name}/compressed']:
            suffix, text = COMPRESSED[name]
            bgr = array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
            options = ([cv2.IMWRITE_JPEG_QUALITY, job.settings['jpeg_quality']]
                       if suffix == '.jpg' else [cv2.IMWRITE_PNG_COMPRESSION, 1])
            encoded = cv2.imencode(suffix, bgr, options)[1]
            msg = CompressedImage(format=text, data=encoded.tobytes())
            msg.header.stamp.sec, msg.header.stamp.nanosec = job.header.sec, job.header.nanosec
            msg.header.frame_id = job.header.frame_id
            self._outputs[f'{name}/compressed'].publish(msg)

    def _overlay(self, image, order, labels, color, alpha):
        if image.shape[:2] != labels.shape:
            image = cv2.resize(image, labels.shape[::-1], interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if order == 'bgr' else image
        return overlay(np.ascontiguousarray(rgb), color, alpha,
                       self.dataset.background_mask(labels))

    # Diagnostics ------------------------------------------------------------

    def _publish_diagnostics(self):
        pipeline, source = self.pipeline, self._source
        busy = pipeline.busy() if pipeline is not None else None
        if (busy is not None and busy[0] in ('prepare', 'infer') and busy[1] > 1.0
                and source is not None):
            source.take()  # the pipeline cannot: a sample keeps the input rate known
        # This timer runs beside transitions (configure may be filling these in): it
        # reads each attribute once and copies what it iterates.
        report = self.stats.report()
        model, dataset, cloud = self.model, self.dataset, self._cloud
        subscribed = [name for name, pub in dict(self._outputs).items()
                      if pub.get_subscription_count() > 0]
        if cloud is not None and cloud.wanted:
            subscribed.append('points')
        level, message = health(
            self.state, report, config_error=self._config_error,
            workers_alive=pipeline is not None and pipeline.alive,
            busy=busy, subscribed=bool(subscribed), topic=self._topic,
            silent_for=time.monotonic() - self._progress_at,
            rate=self._settings.get('rate', 0.0),
            since_input=None if self._last_frame is None
            else time.monotonic() - self._last_frame,
            clock_missing=self.get_parameter('use_sim_time').value
            and self.get_clock().now().nanoseconds == 0, loading=self._loading)
        status = DiagnosticStatus(
            name=f'{self.get_fully_qualified_name()}: segmentation',
            level=getattr(DiagnosticStatus, level),
            message=message, hardware_id=str(model.source) if model else '')
        values = {**report['values'], 'lifecycle_state': self.state,
                  'subscribed_outputs': ','.join(subscribed), 'input_topic': self._topic}
        if cloud is not None:
            values.update(cloud.report(report['span']),
                          depth_tolerance_s=self._settings.get('depth_tolerance'))
        if model is not None and dataset is not None:
            values.update(model=str(model.source), model_format=model.kind,
                          device=str(model.device), dataset=dataset.name)
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)


def main(args=None):
    # A node shut down through its lifecycle (finalized) has nothing left to do: it exits.
    # Two executor threads: diagnostics and the lifecycle queries keep answering while
    # a transition (configure: loading a big model) holds the other.
    return run_node(DeepLabNode, args, startup_errors=(StartError,),
                    finished=lambda node: node.state == 'finalized', threads=2)


if __name__ == '__main__':
    sys.exit(main())
