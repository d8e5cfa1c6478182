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

"""Every Python file carries the Apache-2.0 header (ament_copyright is not on PyPI)."""

from lint_paths import python_sources, REPO
import pytest


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    missing = []
    for name in python_sources():
        head = (REPO / name).read_text(encoding='utf-8')[:1000]
        if not (head.startswith('# Copyright ')
                and 'Licensed under the Apache License, Version 2.0' in head):
            missing.append(name)
    assert not missing, 'Missing the Apache-2.0 copyright header: ' + ', '.join(missing)
