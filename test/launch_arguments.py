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

"""The launch arguments a launch file declares, read from its source (no launch needed)."""

import ast

from deeplab_ros.tools.launch_plan import NODE_OVERRIDES, TOPICS
from lint_paths import REPO

HELPERS = REPO / 'deeplab_ros' / 'tools' / 'launch_helpers.py'


def declared_arguments(path):
    """Names of the DeclareLaunchArgument calls in ``path`` (and the shared helpers)."""
    names = set(NODE_OVERRIDES) | set(TOPICS)  # declared in loops over these tables
    for source in (path, HELPERS):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == \
                    'DeclareLaunchArgument' and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names
