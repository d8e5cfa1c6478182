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
The node's /diagnostics: one status for the node and one per camera.

A one-camera node (``cameras: []``) sends one status, ``<node>: segmentation``,
with the node's and the camera's values. With named cameras the node's status
(model, device, lifecycle state) is ``<node>: segmentation`` and each camera
has ``<node>: <camera>`` (input and output rates, drops, latency, its problem).
The timer that sends them runs beside transitions and the worker threads: it
reads what it needs once and copies what it iterates.
"""

import time

from deeplab_ros.pipeline.health import camera_health, node_health
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

NODE_STATUS = 'segmentation'


def _status(name, level_message, hardware_id, values):
    level, message = level_message
    status = DiagnosticStatus(name=name, level=getattr(DiagnosticStatus, level),
                              message=message, hardware_id=hardware_id)
    status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
    return status


def camera_values(camera, settings, clock_missing):
    """Return ``(health arguments, values)`` of one camera."""
    report = camera.stats.report()
    subscribed = camera.outputs.subscribed()
    cloud = camera.cloud
    if cloud is not None and cloud.wanted:
        subscribed.append('points')
    now = time.monotonic()
    verdict = {'report': report, 'subscribed': bool(subscribed), 'topic': camera.topic,
               'silent_for': now - camera.progress_at,
               'rate': settings.rate if settings is not None else 0.0,
               'since_input': None if camera.last_frame is None else now - camera.last_frame,
               'clock_missing': clock_missing}
    values = {**report['values'], 'subscribed_outputs': ','.join(subscribed),
              'input_topic': camera.topic}
    if cloud is not None:
        values.update(cloud.report(report['span']), depth_tolerance_s=settings.depth_tolerance)
    return verdict, values


def diagnostics(node, cameras, model, dataset, settings, pipeline, config_error, loading,
                clock_missing) -> DiagnosticArray:
    """Return the DiagnosticArray of ``node`` (its state, model and ``cameras``) now."""
    fqn, state = node.get_fully_qualified_name(), node.state
    busy = pipeline.busy() if pipeline is not None else None
    if busy is not None and busy[0] in ('prepare', 'infer') and busy[1] > 1.0:
        for camera in cameras:
            camera.take()  # the pipeline cannot: a sample keeps the input rates known
    verdict = node_health(state, config_error,
                          workers_alive=pipeline is not None and pipeline.alive,
                          busy=busy, loading=loading)
    node_values = {'lifecycle_state': state}
    if model is not None and dataset is not None:
        node_values.update(model=str(model.source), model_format=model.file_format,
                           device=str(model.device), dataset=dataset.name)
    hardware = str(model.source) if model is not None else ''
    statuses = []
    if not cameras or not cameras[0].name:  # one camera, or none configured yet
        camera_verdict, values = (camera_values(cameras[0], settings, clock_missing)
                                  if cameras else ({}, {}))
        statuses.append(_status(
            f'{fqn}: {NODE_STATUS}', verdict or camera_health(**camera_verdict), hardware,
            {**values, **node_values}))
    else:
        summary = []
        for camera in cameras:
            camera_verdict, values = camera_values(camera, settings, clock_missing)
            statuses.append(_status(f'{fqn}: {camera.name}',
                                    verdict or camera_health(**camera_verdict), hardware,
                                    {**values, 'lifecycle_state': state}))
            summary.append(f"{camera.name} {values['output_rate_hz']} Hz")
        statuses.insert(0, _status(
            f'{fqn}: {NODE_STATUS}',
            verdict or ('OK', f'segmenting {len(cameras)} cameras: ' + ', '.join(summary)),
            hardware, {**node_values, 'cameras': ','.join(c.name for c in cameras)}))
    array = DiagnosticArray(status=statuses)
    array.header.stamp = node.get_clock().now().to_msg()
    return array
