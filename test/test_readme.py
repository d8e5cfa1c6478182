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

"""The README's tables say what the code does: parameters, topics, diagnostics, modules."""

import ast
import re
import time

from deeplab_ros.pipeline.health import health
from launch_arguments import declared_arguments
from lint_paths import REPO
import pytest

README = (REPO / 'README.md').read_text()
DIAGNOSTICS = (REPO / 'docs' / 'diagnostics.md').read_text()


def table(heading_columns, text=README):
    """Rows (lists of cells) of the table in ``text`` whose header starts with these columns."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('| ' + ' | '.join(heading_columns) + ' |'))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append([cell.strip() for cell in line.strip().strip('|').split('|')])
    return rows


def ticked(cell):
    return re.findall(r'`([^`]+)`', cell)


def shown(value):
    """Return a default as the README writes it."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value == []:
        return '[]'
    return '""' if value == '' else str(value)


@pytest.mark.ros
def test_the_parameters_table_matches_the_declared_parameters():
    from deeplab_ros.node.settings import PARAMETERS
    documented = {}
    for names, default, live, _ in table(['name', 'default', 'live', 'what']):
        defaults = ticked(default)
        for i, name in enumerate(ticked(names)):
            documented[name] = (defaults[min(i, len(defaults) - 1)], live == 'yes')
    assert set(documented) == set(PARAMETERS)
    for name, spec in PARAMETERS.items():
        assert documented[name] == (shown(spec.default), not spec.read_only), name


SCENARIOS = [  # (state, window counts, arguments): each README row must come out of one
    ('unconfigured', {}, {}),
    ('unconfigured', {}, {'config_error': 'no model'}),
    ('inactive', {}, {}),
    ('active', {}, {'since_input': None}),
    ('active', {}, {'since_input': 4.0}),
    ('active', {'received': 30, 'published': 3}, {'rate': 1.0}),
    ('active', {'received': 30}, {'busy': ('infer', 9.0)}),
    ('active', {'received': 30}, {'clock_missing': True}),
    ('active', {'received': 30}, {'subscribed': False}),
    ('active', {'received': 30, 'published': 30}, {}),
    ('active', {'received': 30, 'published': 20, 'bad': 10}, {}),
    ('active', {'received': 30, 'bad': 30}, {'silent_for': 6.0}),
    ('active', {'received': 30}, {'workers_alive': False}),
    ('finalized', {}, {}),
    ('configuring', {}, {'loading': ('/models/big.pb', time.monotonic() - 3)}),
]


def produced():
    results = set()
    for state, counts, kwargs in SCENARIOS:
        window = dict.fromkeys(('received', 'dropped', 'bad', 'failed', 'published'), 0)
        window.update(counts)
        report = {'window': window, 'span': 1.0,
                  'values': {'input_rate_hz': window['received'],
                             'output_rate_hz': window['published']}}
        results.add(health(state, report, topic='/image', **kwargs))
    return results


def test_the_diagnostics_table_matches_what_the_node_publishes():
    rows = [(level, ticked(message)[0]) for level, message, _ in
            table(['level', 'message', 'when'], DIAGNOSTICS)]
    patterns = {(level, re.compile(re.escape(text).replace(re.escape('<N>'), r'[\d.]+')
                                   .replace(re.escape('<topic>'), r'\S+')
                                   .replace(re.escape('<reason>'), r'.+')
                                   .replace(re.escape('<state>'), r'\w+')
                                   .replace(re.escape('<stage>'), r'\w+')))
                for level, text in rows}
    codes = produced()
    assert len(rows) == len(SCENARIOS)
    for level, message in codes:
        assert any(level == lvl and p.fullmatch(message) for lvl, p in patterns), message
    for lvl, pattern in patterns:
        assert any(lvl == level and pattern.fullmatch(m) for level, m in codes), pattern


def test_the_launch_arguments_listed_are_the_declared_ones():
    sentence = README[README.index('--show-args` lists') + len('--show-args` lists'):]
    listed = set(ticked(sentence[:sentence.index('.')]))
    assert listed == declared_arguments(REPO / 'launch' / 'webcam.launch.py')


@pytest.mark.ros
@pytest.mark.parametrize('transport', ['raw', 'compressed'])
def test_the_topics_table_matches_the_publishers_and_subscriptions(
        transport, pascal_model, ros_context):
    from deeplab_ros.node.deeplab_node import DeepLabNode
    from rclpy.parameter import Parameter
    node = DeepLabNode(context=ros_context, parameter_overrides=[
        Parameter('autostart', value=False), Parameter('model_path', value=str(pascal_model)),
        Parameter('input_transport', value=transport), Parameter('qos', value='reliable'),
        Parameter('cloud', value=True)])
    try:
        node.trigger_configure()
        node.trigger_activate()
        created = {p.topic_name for p in node.publishers} | {
            s.topic_name for s in node.subscriptions}
    finally:
        node.close()
        node.destroy_node()
    rclpy_own = {'/rosout', '/parameter_events', '/deeplab/transition_event'}
    documented = {('/deeplab/' + name[2:]) if name.startswith('~/') else
                  name if name.startswith('/') else '/' + name
                  for row in table(['topic', 'type', 'what']) for name in ticked(row[0])}
    other_input = {'raw': '/image/compressed', 'compressed': '/image'}[transport]
    assert created - rclpy_own == documented - {other_input}


def test_every_module_is_in_the_layout_and_in_its_layers_docstring():
    layout = README[README.index('\n## Layout\n'):]
    listed = {row[0].split()[0].strip('`'): {m for m in ticked(row[1]) if m.endswith('.py')}
              for row in table(['folder', 'modules'], layout)}
    package = REPO / 'deeplab_ros'
    layers = {p for p in package.iterdir() if (p / '__init__.py').is_file()}
    assert {f'deeplab_ros/{layer.name}/' for layer in layers} == {
        folder for folder in listed if folder.startswith('deeplab_ros/')}
    for layer in layers:
        modules = {p.name for p in layer.glob('*.py') if p.name != '__init__.py'}
        assert listed[f'deeplab_ros/{layer.name}/'] == modules, layer.name
        docstring = ast.get_docstring(ast.parse((layer / '__init__.py').read_text()))
        missing = [m for m in sorted(modules) if not re.search(rf'\b{m[:-3]}\b', docstring)]
        assert not missing, f'deeplab_ros/{layer.name}/__init__.py does not name {missing}'
