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
``viewer``: camera | overlay | color mask side by side, with a legend, per frame.

Frames are matched by header stamp (the deeplab node copies the camera's).
Each composed frame is saved as ``frame_NNNN.png`` next to its 8-bit label
map ``frame_NNNN_label.png``, shown in a window when OpenCV has a GUI, and
summarised in one line on the terminal.
"""

import json
from pathlib import Path
import sys

import cv2
from deeplab_ros.engine.visualize import class_shares
from deeplab_ros.node.image_outputs import OUTPUT_NAMES
from deeplab_ros.ros.image_encoding import image_to_array
from deeplab_ros.ros.parameters import declare, read, Spec
from deeplab_ros.ros.qos import LATCHED
from deeplab_ros.ros.ros_main import run_node
import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import String

# The deeplab node's outputs shown beside the camera image, named as the node names them.
VIEWED_OUTPUTS = tuple(name for name in OUTPUT_NAMES if name != 'class_mask')
PARTS = ('camera', *VIEWED_OUTPUTS)
PARAMETERS = {
    'output_dir': Spec('', 'Folder for frame_NNNN.png and frame_NNNN_label.png; empty saves '
                           'nothing', read_only=True),
    'display': Spec(True, 'Show a window (needs an OpenCV with GUI support)', read_only=True),
    'deeplab_node': Spec('deeplab', 'Name of the deeplab node whose outputs are shown',
                         read_only=True),
}
PENDING_LIMIT = 30  # unmatched stamps kept; older ones are forgotten


ANIMATION_HEIGHT = 240     # each part of an animation frame; the width follows the camera
ANIMATION_LEGEND_ROWS = 3  # the largest classes, so every frame's legend is one height
ANIMATION_FRAMES = 60      # the last ones, for long live runs


def to_bgr(msg):
    image, order = image_to_array(msg)
    return np.ascontiguousarray(image if order == 'bgr' else image[..., ::-1])


def legend(labels, color_mask_bgr, names, width, rows=None):
    """Draw one row per class present (the largest ``rows``): swatch, name, pixel share."""
    shares = class_shares(labels, 256)[:rows]
    row = 22
    panel = np.full((row * (rows or len(shares)) + 8, width, 3), 255, np.uint8)
    flat_labels, flat_colors = labels.ravel(), color_mask_bgr.reshape(-1, 3)
    for i, (class_id, share) in enumerate(shares):
        color = flat_colors[np.argmax(flat_labels == class_id)].tolist()
        top = 4 + i * row
        cv2.rectangle(panel, (6, top + 2), (24, top + row - 4), color, -1)
        cv2.rectangle(panel, (6, top + 2), (24, top + row - 4), (0, 0, 0), 1)
        name = names.get(class_id, str(class_id))
        cv2.putText(panel, f'{name} {share:.1%}', (32, top + row - 7),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return panel


def cover(image, size, interpolation):
    """Scale ``image`` to cover ``size`` (w, h) and crop the middle: no bands, no distortion."""
    width, height = size
    scale = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(image, (max(width, round(image.shape[1] * scale)),
                                max(height, round(image.shape[0] * scale))),
                        interpolation=interpolation)
    top, left = (scaled.shape[0] - height) // 2, (scaled.shape[1] - width) // 2
    return scaled[top:top + height, left:left + width]


def compose(camera, overlay, color_mask, labels, names, panel=None, legend_rows=None):
    """
    Camera | overlay | mask with the legend below.

    By default every part is at the camera's height. With ``panel`` (w, h)
    each part fills exactly that size and the legend has ``legend_rows``
    rows, so pictures of any input share one size (the demo's animation).
    """
    if panel is None:
        height = camera.shape[0]
        panel = (round(camera.shape[1] * height / camera.shape[0]), height)
    smooth = cv2.INTER_AREA if panel[1] <= camera.shape[0] else cv2.INTER_LINEAR
    labels = cover(labels, panel, cv2.INTER_NEAREST_EXACT)
    color_mask = cover(color_mask, panel, cv2.INTER_NEAREST_EXACT)
    row = np.hstack([cover(camera, panel, smooth), cover(overlay, panel, smooth), color_mask])
    return np.vstack([row, legend(labels, color_mask, names, row.shape[1], legend_rows)])


class ViewerNode(Node):
    """Collects the camera frame and the deeplab outputs of each stamp and shows them."""

    def __init__(self, **kwargs):
        super().__init__('deeplab_viewer', **kwargs)
        declare(self, PARAMETERS)
        param = read(self, PARAMETERS)
        self.output_dir = Path(param['output_dir']) if param['output_dir'] else None
        if self.output_dir:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        self.display = param['display']
        deeplab = param['deeplab_node']
        self.names = {}
        self.frames = 0
        self.animation = []  # small pictures of one size, for the demo's demo.gif
        self.camera_frames = 0
        self._panel = None
        self.summaries = []
        self._pending = {}
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        topics = {'camera': 'image', **{name: f'{deeplab}/{name}' for name in VIEWED_OUTPUTS}}
        for part, topic in topics.items():
            self.create_subscription(Image, topic, self._receiver(part), qos)
        self.create_subscription(String, f'{deeplab}/labels', self._on_labels, LATCHED)

    def _on_labels(self, msg):
        self.names = {int(k): v for k, v in json.loads(msg.data).items()}

    def _receiver(self, part):
        def receive(msg):
            self.camera_frames += part == 'camera'
            key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
            parts = self._pending.setdefault(key, {})
            parts[part] = msg
            if len(parts) == len(PARTS):
                del self._pending[key]
                self._show(parts)
            while len(self._pending) > PENDING_LIMIT:
                self._pending.pop(next(iter(self._pending)))
        return receive

    def missing_parts(self):
        """Name the outputs the frames still waiting lack, e.g. 'label_map, overlay'."""
        missing = {part for parts in self._pending.values() for part in PARTS
                   if part not in parts}
        return ', '.join(sorted(missing)) or 'outputs'

    def _show(self, parts):
        self.frames += 1
        label_msg = parts['label_map']
        labels = np.frombuffer(label_msg.data, np.uint8).reshape(label_msg.height,
                                                                 label_msg.width)
        camera = to_bgr(parts['camera'])
        picture = compose(camera, to_bgr(parts['overlay']), to_bgr(parts['color_mask']),
                          labels, self.names)
        latency = (self.get_clock().now().nanoseconds
                   - Time.from_msg(label_msg.header.stamp).nanoseconds) / 1e6
        classes = ', '.join(f'{self.names.get(i, i)} {s:.1%}'
                            for i, s in class_shares(labels, 256))
        summary = (f'frame {self.frames:4d} {camera.shape[1]}x{camera.shape[0]}: {classes} '
                   f'(latency {latency:.0f} ms)')
        self.summaries.append(summary)
        print(summary, flush=True)
        if self.output_dir:  # the animation's frames: one size whatever the input's
            if not self.animation:
                self._panel = (round(ANIMATION_HEIGHT * camera.shape[1] / camera.shape[0]),
                               ANIMATION_HEIGHT)
            self.animation = self.animation[-(ANIMATION_FRAMES - 1):] + [compose(
                camera, to_bgr(parts['overlay']), to_bgr(parts['color_mask']), labels,
                self.names, panel=self._panel, legend_rows=ANIMATION_LEGEND_ROWS)]
        if self.output_dir:
            stem = self.output_dir / f'frame_{self.frames:04d}'
            cv2.imwrite(f'{stem}.png', picture)
            cv2.imwrite(f'{stem}_label.png', labels)
        if self.display:
            try:
                cv2.imshow('deeplab_ros', picture)
                cv2.waitKey(1)
            except cv2.error:
                self.display = False
                print('no window: this OpenCV has no GUI (pictures are still saved)',
                      file=sys.stderr)


def main(args=None):
    return run_node(ViewerNode, args)


if __name__ == '__main__':
    sys.exit(main())
