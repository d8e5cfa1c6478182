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
The deeplab node's parameters and the frozen settings the frames carry.

``PARAMETERS`` is the node's table (``ros/parameters.py`` declares and reads
it); ``check_settings`` adds the rules across parameters; ``Settings`` is one
immutable snapshot of them, with the class ids the class lists resolve to.
"""

from dataclasses import field, make_dataclass, replace
import re

from deeplab_ros.engine.model_zoo import DEFAULT_MODEL
from deeplab_ros.ros.parameters import check, check_number, Spec, value_of

MIN_RATE = 0.01  # Hz: one frame every 100 s; smaller positive rates are refused
# A camera name becomes a topic name token (front/image, ~/front/label_map): ROS allows
# letters, digits and single underscores, not starting with a digit.
NAME_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


# Declared in this order; read_only ones are read when the node is configured.
PARAMETERS = {
    'cameras': Spec([], 'Camera names served by one model, e.g. [front, rear]: camera front '
                        'reads front/image and publishes ~/front/label_map etc.; empty: one '
                        'camera on image, outputs ~/label_map etc.', read_only=True),
    'autostart': Spec(True, 'Configure and activate at start-up; false waits for '
                            '`ros2 lifecycle set` (managed start)', read_only=True),
    'model_path': Spec('', 'Model file: zoo .tar.gz, frozen .pb, SavedModel folder or '
                           '.tflite; empty uses model_name', read_only=True),
    'model_name': Spec(DEFAULT_MODEL, 'Model zoo name, downloaded on first use when '
                                      'model_path is empty', read_only=True),
    'dataset': Spec('auto', 'Label space for class names and colors; auto guesses from the '
                            'model name', read_only=True,
                    choices=('auto', 'pascal', 'cityscapes', 'ade20k')),
    'labels_file': Spec('', 'Class names file, one per line (overrides dataset)',
                        read_only=True),
    'input_tensor': Spec('', "Model input tensor; empty uses the format's default "
                             '(ImageTensor:0 for zoo graphs)', read_only=True),
    'output_tensor': Spec('', "Model output tensor; empty uses the format's default "
                              '(SemanticPredictions:0 for zoo graphs)', read_only=True),
    'device': Spec('auto', 'Inference device: auto (GPU when TensorFlow sees one), cpu or '
                           'gpu:N', read_only=True),
    'num_threads': Spec(0, 'Inference threads; 0 uses every core', read_only=True,
                        integer=(0, 256)),
    'rate': Spec(0.0, 'Maximum frames processed per second; 0 processes frames as fast as '
                      f'they come; else at least {MIN_RATE}', floating=(0.0, 1000.0)),
    'input_size': Spec(0, "Longest image side fed to the model; 0 uses the model's own (513 "
                          'for the zoo)', integer=(0, 4096)),
    'overlay_alpha': Spec(0.5, 'Opacity of the color mask on the overlay',
                          floating=(0.0, 1.0)),
    'mask_classes': Spec([], 'Class names or ids marked 255 on ~/class_mask, e.g. [person] '
                             'or [15]; empty disables it'),
    'output_resolution': Spec('input', "Size of the outputs: the camera image's or the "
                                       "model's", choices=('input', 'model')),
    'qos': Spec('auto', "Image subscription QoS: auto matches the camera publisher's "
                        'reliability', read_only=True,
                choices=('auto', 'reliable', 'sensor_data')),
    'input_transport': Spec('raw', 'raw subscribes image; compressed subscribes '
                                   'image/compressed', read_only=True,
                            choices=('raw', 'compressed')),
    'publish_color_mask': Spec(True, 'Publish ~/color_mask'),
    'publish_overlay': Spec(True, 'Publish ~/overlay'),
    'publish_confidence': Spec(True, "Publish ~/confidence (the model's per-pixel confidence, "
                                     'when it has class scores)'),
    'jpeg_quality': Spec(80, 'JPEG quality of ~/overlay/compressed and ~/color_mask/compressed',
                         integer=(1, 100)),
    'cloud': Spec(False, 'Also subscribe depth (registered to the color image: 16UC1 mm or '
                         '32FC1 m) and camera_info, and publish the labeled ~/points',
                  read_only=True),
    'depth_tolerance': Spec(0.05, 'Largest stamp difference, in seconds, between a color '
                                  'frame and the depth frame paired with it',
                            floating=(0.0, 1.0)),
    'cloud_stride': Spec(1, 'Take every n-th depth pixel in each direction for ~/points',
                         integer=(1, 64)),
    'cloud_organized': Spec(False, '~/points as an organized cloud: one point per ~/label_map '
                                   "pixel, row-major, NaN where none (what Nav2's semantic "
                                   'segmentation layer reads); false: the valid points only'),
    'cloud_classes': Spec([], 'Class names or ids kept in ~/points, e.g. ["person"]; empty '
                              'keeps all'),
    'min_depth': Spec(0.1, 'Nearest depth kept in ~/points, metres', floating=(0.0, 100.0)),
    'max_depth': Spec(10.0, 'Farthest depth kept in ~/points, metres', floating=(0.0, 1000.0)),
}


def check_camera_names(names):
    """Raise ValueError unless ``names`` are distinct, non-empty ROS name tokens."""
    for name in names:
        if not isinstance(name, str) or not NAME_TOKEN.fullmatch(name) or '__' in name:
            raise ValueError(
                f'cameras: {name!r} is not a valid camera name (letters, digits and single '
                'underscores, not starting with a digit: it becomes part of topic names)')
    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        raise ValueError(f'cameras: {", ".join(repeated)} named more than once')


def check_settings(values, current=None):
    """
    Raise ValueError naming the first invalid value in ``{name: value}``.

    ``current`` (the values in force) lets the rules across parameters see the
    other side of a change that sets only one of them.
    """
    check(values, PARAMETERS)
    for name, value in values.items():
        if name == 'input_size' and 0 < value < 16:
            raise ValueError(f'input_size must be 0 or at least 16, got {value}')
        if name == 'cameras':
            check_camera_names(value_of(name, value, PARAMETERS))
        if name == 'rate' and 0 < value < MIN_RATE:
            raise ValueError(f'rate must be 0 (every frame) or at least {MIN_RATE} Hz, '
                             f'got {value}')
    merged = {**(current or {}), **values}
    if 'min_depth' in values or 'max_depth' in values:
        check_number('min_depth', merged['min_depth'], None)
        check_number('max_depth', merged['max_depth'], None)
        if merged['min_depth'] > merged['max_depth']:
            raise ValueError(f"min_depth ({merged['min_depth']}) must not be greater than "
                             f"max_depth ({merged['max_depth']}): no point would be kept")
    if merged.get('cloud_organized') and merged.get('cloud_stride', 1) > 1 and (
            'cloud_organized' in values or 'cloud_stride' in values):
        raise ValueError('cloud_stride must be 1 with cloud_organized: an organized cloud '
                         'has a point for every label map pixel')


def class_ids(dataset, **lists):
    """Return ``{'mask_ids': ..., 'cloud_ids': ...}`` of the class lists given (names or ids)."""
    return {name.replace('classes', 'ids'): tuple(
        dataset.class_id(n) for n in value if str(n).strip()) for name, value in lists.items()}


def refusal(values, current, configured, node_name, dataset=None):
    """
    Return why the change ``{name: value}`` is refused, or None.

    ``current``: the values in force; ``configured``: read-only parameters are
    then refused, with the ``ros2 lifecycle`` steps; ``dataset``: class names
    are checked against it when there is one.
    """
    try:
        check_settings(values, current)
        frozen = [n for n in values if n in PARAMETERS and PARAMETERS[n].read_only]
        if frozen and configured:
            return (f'{", ".join(frozen)}: applied at configure, so the node must be '
                    f'unconfigured to change it: `ros2 lifecycle set {node_name} deactivate`, '
                    'then cleanup, set it, configure and activate')
        if dataset is not None:
            class_ids(dataset, **{n: v for n, v in values.items()
                                  if n in ('mask_classes', 'cloud_classes')})
    except ValueError as err:
        return str(err)
    return None


def _field_type(spec):
    return tuple if isinstance(spec.default, list) else type(spec.default)


# The node's settings: one frozen snapshot per change, each frame keeps the one it was
# taken with. Fields are the parameters (lists as tuples) plus the class ids that
# mask_classes and cloud_classes resolve to.
Settings = make_dataclass(
    'Settings', [(name, _field_type(spec)) for name, spec in PARAMETERS.items()]
    + [('mask_ids', tuple, field(default=())), ('cloud_ids', tuple, field(default=()))],
    frozen=True)


def settings_of(values):
    """Return the Settings of ``{name: value}`` (every parameter); ValueError names a bad one."""
    check_settings(values)
    return Settings(**{name: value_of(name, value, PARAMETERS) for name, value in values.items()})


def updated(settings, values):
    """Return ``settings`` with ``{name: value}`` applied (floats as floats, lists as tuples)."""
    return replace(settings, **{name: value_of(name, value, PARAMETERS)
                                for name, value in values.items()})
