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
The deeplab node with a stand-in for a fast accelerator: for ``make bench`` only.

``python bench/simulated_accelerator.py MILLISECONDS --ros-args ...`` runs the
real node, whose model is replaced by one that waits MILLISECONDS with the GIL
released (as a GPU call does) and returns a 513x513 label map. It shows the
frame rate the node itself allows once the model is fast.
"""

import sys
import time

from deeplab_ros.node import deeplab_node as node
import numpy as np


class StandInModel:
    """A model call of fixed latency that leaves the CPU (and the GIL) to the rest."""

    file_format = 'simulated'
    has_confidence, why_no_confidence = False, 'a stand-in model has no class scores'
    fixed_size = (513, 513)
    input_size = 513
    dataset = 'pascal'

    def __init__(self, milliseconds):
        self.seconds = milliseconds / 1000.0
        self.device = f'simulated accelerator ({milliseconds:g} ms)'
        self.source = self.device
        self._labels = np.zeros(self.fixed_size, np.uint8)
        self._labels[128:384, 128:384] = 3  # a bird, so the overlay has work to do

    def predict(self, batch):
        time.sleep(self.seconds)
        return self._labels


def main():
    milliseconds = float(sys.argv.pop(1))
    return node.main(sys.argv[1:], load=lambda *args, **kwargs: StandInModel(milliseconds))


if __name__ == '__main__':
    sys.exit(main())
