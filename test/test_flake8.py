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

"""flake8 with the ament settings, as in ros2/examples' packages."""

import os

from ament_flake8.main import main_with_errors
from lint_paths import python_sources, REPO
import pytest


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    os.chdir(REPO)
    rc, errors = main_with_errors(argv=python_sources())
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)
