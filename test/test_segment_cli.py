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

"""The deeplab-segment command on a real photo."""

import os
from pathlib import Path
import subprocess
import sys

from conftest import png_declaring
import cv2
from deeplab_ros.tools.segment_cli import main
import numpy as np
import pytest


def test_writes_label_mask_and_overlay(data_dir, pascal_model, tmp_path, capsys):
    bird = data_dir / 'images' / 'bird_segmentation.bmp'
    assert main([str(bird), '--model', str(pascal_model), '--out', str(tmp_path)]) == 0
    labels = cv2.imread(str(tmp_path / 'bird_segmentation_label.png'), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(tmp_path / 'bird_segmentation_mask.png'))
    overlay = cv2.imread(str(tmp_path / 'bird_segmentation_overlay.png'))
    photo = cv2.imread(str(bird))
    assert labels.shape == (513, 513) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == {0, 3}
    assert mask[labels == 3][0].tolist() == [0, 128, 128]  # PASCAL bird, stored as BGR
    assert np.array_equal(overlay[labels == 0], photo[labels == 0])
    out = capsys.readouterr().out
    assert 'bird_segmentation.bmp: background 78' in out and 'bird 21' in out


def test_bad_model_and_unreadable_image(tmp_path, capsys, pascal_model):
    assert main(['x.png', '--model', str(tmp_path / 'none.tflite')]) == 2
    assert 'neither an existing file' in capsys.readouterr().err
    junk = tmp_path / 'junk.png'
    junk.write_bytes(b'not an image')
    assert main([str(junk), '--model', str(pascal_model), '--out', str(tmp_path)]) == 1
    assert capsys.readouterr().err == (f'{junk}: image in no known image format (accepted: PNG, '
                                       'JPEG, BMP, PNM), skipped\n')
    # A PNG whose header is fine but whose data is not: decoded, found broken, skipped.
    broken = tmp_path / 'broken.png'
    broken.write_bytes(png_declaring(64, 64)[:40])
    assert main([str(broken), '--model', str(pascal_model), '--out', str(tmp_path)]) == 1
    assert 'cannot read as an image, skipped' in capsys.readouterr().err


# Hardening: every bad argument or output is one clear message and a non-zero exit ----------

def run_cli(*args):
    return subprocess.run([sys.executable, '-m', 'deeplab_ros.tools.segment_cli', *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_out_is_an_existing_file(tmp_path, pascal_model, data_dir):
    (tmp_path / 'taken').write_text('x')
    result = run_cli(data_dir / 'images' / 'dog_segmentation.bmp', '--model', pascal_model,
                     '--out', tmp_path / 'taken')
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert f'--out {tmp_path / "taken"} is a file; give a folder' in result.stderr


def test_unwritable_out_is_reported_per_image_and_fails(pascal_model, data_dir):
    result = run_cli(data_dir / 'images' / 'dog_segmentation.bmp', '--model', pascal_model,
                     '--out', '/sys/kernel')
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'cannot write /sys/kernel/dog_segmentation_label.png' in result.stderr
    assert 'wrote 0 of 1 result(s)' in result.stdout


def test_same_stem_twice_never_overwrites_and_folders_expand(tmp_path, pascal_model, data_dir):
    bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    cv2.imwrite(str(tmp_path / 'a' / 'x.jpg'), bird)
    cv2.imwrite(str(tmp_path / 'b' / 'x.png'), bird[:256, :256])
    cv2.imwrite(str(tmp_path / 'b' / 'y.png'), bird[:128, :128])
    out = tmp_path / 'out'
    result = run_cli(tmp_path / 'a' / 'x.jpg', tmp_path / 'b', '--model', pascal_model,
                     '--out', out)
    assert result.returncode == 0, result.stderr
    assert 'wrote 3 of 3 result(s)' in result.stdout
    assert 'x.png: ' in result.stdout and '(saved as x-2_*.png)' in result.stdout
    shapes = {p.name: cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape
              for p in out.glob('*_label.png')}
    assert shapes == {'x_label.png': (513, 513), 'x-2_label.png': (256, 256),
                      'y_label.png': (128, 128)}


@pytest.mark.parametrize('args, message', [
    (['--alpha', '5'], 'argument --alpha: 5.0 is out of range: expected 0.0 to 1.0'),
    (['--threads', '-1'], 'argument --threads: -1 is out of range: expected 0 to 256'),
    (['--input-size', '8'], 'argument --input-size: 8 is out of range: expected 16 to 4096'),
    (['--alpha', 'lots'], "argument --alpha: 'lots' is not a float"),
])
def test_arguments_are_checked_with_their_range(args, message):
    result = run_cli('x.png', *args)
    assert result.returncode == 2 and message in result.stderr


def test_a_huge_declared_image_is_refused_before_decoding(tmp_path, pascal_model):
    bomb = tmp_path / 'bomb.png'
    bomb.write_bytes(png_declaring(30000, 30000))
    result = run_cli(bomb, '--model', pascal_model, '--out', tmp_path / 'out')
    assert result.returncode == 1
    assert (f'{bomb}: absurd image size 30000x30000 (over 67108864 pixels), skipped'
            in result.stderr)


def test_output_names_are_unique_for_any_inputs_their_own_names_included(tmp_path, capsys,
                                                                         pascal_model):
    """Hardening II, 7: a.bmp a.png a-2.bmp wrote a-2 twice, and said 'wrote 3 of 3'."""
    from deeplab_ros.tools.segment_cli import unique_stems
    assert unique_stems([Path('a.bmp'), Path('a.png'), Path('a-2.bmp'), Path('a-2.png')]) == \
        ['a', 'a-2', 'a-2-2', 'a-2-3']
    photo = np.full((40, 60, 3), 90, np.uint8)
    names = ['a.bmp', 'a.png', 'a-2.bmp']
    for i, name in enumerate(names):
        photo[:, :] = 40 * (i + 1)
        cv2.imwrite(str(tmp_path / name), photo)
    out = tmp_path / 'out'
    assert main([*(str(tmp_path / n) for n in names), '--model', str(pascal_model),
                 '--out', str(out)]) == 0
    overlays = sorted(p.name for p in out.glob('*_overlay.png'))
    assert overlays == ['a-2-2_overlay.png', 'a-2_overlay.png', 'a_overlay.png']
    assert 'wrote 3 of 3' in capsys.readouterr().out


def test_a_file_name_that_is_not_utf8_is_processed(tmp_path, capsys, pascal_model):
    """Hardening II, 6: OpenCV 5's imread/imwrite crashed (SIGSEGV) on such a name."""
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b'caf\xe9.png')       # Latin-1, not UTF-8
    ok, png = cv2.imencode('.png', np.full((40, 60, 3), 90, np.uint8))
    with open(name, 'wb') as handle:
        handle.write(png.tobytes())
    out = tmp_path / 'out'
    assert main([os.fsdecode(name), '--model', str(pascal_model), '--out', str(out)]) == 0
    written = os.listdir(os.fsencode(out))
    assert b'caf\xe9_overlay.png' in written and len(written) == 3
    assert "'caf\\udce9.png': background" in capsys.readouterr().out


def test_devices_fifos_and_huge_files_are_refused_at_once(tmp_path, capsys, pascal_model):
    """Hardening II, 10: /dev/zero took 3 GB, a FIFO hung, a 2 GB sparse .pb took 13 s."""
    fifo = tmp_path / 'fifo.png'
    os.mkfifo(fifo)
    model = ['--model', str(pascal_model), '--out', str(tmp_path / 'out')]
    assert main(['/dev/zero', str(fifo), *model]) == 1
    err = capsys.readouterr().err
    assert '/dev/zero: image /dev/zero is not a regular file (a device, FIFO or socket)' in err
    assert f'{fifo}: image {fifo} is not a regular file' in err
    assert main([str(fifo), '--labels', '/dev/zero', *model]) == 2
    assert 'labels file /dev/zero is not a regular file' in capsys.readouterr().err
    assert main([str(fifo), '--model', '/dev/zero']) == 2
    assert '/dev/zero is not a regular file (a device, FIFO or socket)' in \
        capsys.readouterr().err
    sparse = tmp_path / 'huge.pb'
    with open(sparse, 'wb') as handle:
        handle.truncate(2 << 30)
    assert main([str(fifo), '--model', str(sparse)]) == 2
    assert 'is 2147483648 bytes, over the 1 GiB a DeepLab model file can be here' in \
        capsys.readouterr().err


def test_results_never_replace_an_input(tmp_path, capsys, data_dir, pascal_model):
    """Hardening III, 15: with --out the input folder, a.png's label replaced a_label.png."""
    bird = cv2.imread(str(data_dir / 'images' / 'bird_segmentation.bmp'))
    cv2.imwrite(str(tmp_path / 'a.png'), bird[:64, :96])
    cv2.imwrite(str(tmp_path / 'a_label.png'), bird[:48, :80])
    (tmp_path / 'b_mask.png').symlink_to(tmp_path / 'a_label.png')  # a link is the file too
    cv2.imwrite(str(tmp_path / 'b.png'), bird[:32, :40])
    inputs = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main([str(tmp_path), '--model', str(pascal_model), '--out', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert {name: (tmp_path / name).read_bytes() for name in inputs} == inputs
    assert 'a.png: ' in out and '(saved as a-2_*.png)' in out
    assert 'b.png: ' in out and '(saved as b-2_*.png)' in out
    assert 'wrote 4 of 4 result(s)' in out   # a, a_label, b, b_mask (the link): nothing more
    shapes = {p.name: cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape
              for p in tmp_path.glob('*_label.png') if p.name not in inputs}
    assert shapes == {'a-2_label.png': (64, 96), 'a_label_label.png': (48, 80),
                      'b-2_label.png': (32, 40), 'b_mask_label.png': (48, 80)}


def test_a_pattern_chooses_the_images_of_a_folder(tmp_path, capsys, pascal_model):
    """Hardening III, 17: a folder gave its reference masks to segment as well."""
    photo = np.full((40, 60, 3), 90, np.uint8)
    for name in ('bird_segmentation.bmp', 'bird_segmentation_mask.bmp', 'dog_segmentation.png'):
        cv2.imwrite(str(tmp_path / name), photo)
    out = tmp_path / 'out'
    args = ['--model', str(pascal_model), '--out', str(out)]
    assert main([str(tmp_path), '--pattern', '*_segmentation.*', *args]) == 0
    assert sorted(p.name for p in out.glob('*_label.png')) == \
        ['bird_segmentation_label.png', 'dog_segmentation_label.png']
    assert 'wrote 2 of 2' in capsys.readouterr().out
    assert main([str(tmp_path / 'bird_segmentation_mask.bmp'), '--pattern', '*.png', *args]) == 0
    assert 'wrote 1 of 1' in capsys.readouterr().out    # a file named is taken as given
    assert main([str(tmp_path), '--pattern', '*.BMP', *args]) == 2   # the case counts
    assert capsys.readouterr().err == (f"deeplab-segment: no images matching '*.BMP' found in "
                                       f'{tmp_path}\n')


def test_a_png_chunk_longer_than_the_file_is_one_line(tmp_path, capsys, pascal_model):
    """Hardening III, 2: a 49-byte PNG cost deeplab-segment 4.3 GB and 8 s."""
    from image_bombs import png_chunk_length
    bomb = tmp_path / 'bomb.png'
    bomb.write_bytes(png_chunk_length(0xFFFFFFF0))
    assert main([str(bomb), '--model', str(pascal_model), '--out', str(tmp_path / 'out')]) == 1
    assert capsys.readouterr().err == (f'{bomb}: PNG chunk IDAT at byte 33 declares 4294967280 '
                                       'bytes, but 4 follow, skipped\n')
