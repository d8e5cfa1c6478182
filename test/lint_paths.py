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

"""The project's own Python sources, for the linters (never .venv or build output)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_DIRS = ['deeplab_ros', 'launch', 'test', 'bench']


def python_sources():
    """Every project .py file, as paths relative to the repo root."""
    files = [REPO / 'setup.py']
    for folder in LINT_DIRS:
        files.extend(sorted((REPO / folder).rglob('*.py')))
    return [str(f.relative_to(REPO)) for f in files]
