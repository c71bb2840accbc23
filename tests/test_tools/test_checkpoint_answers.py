"""One checkpoint file, one answer: every tool that reads a checkpoint prints the
same one-line error, with the same hint, for the same bad file."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from .conftest import DEMO_CONFIG, REPO_ROOT, TINY_WIDTH, tiny_run_options

pytestmark = pytest.mark.slow


class WritesMarker:
    """Unpickling this with plain pickle creates the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def demo_state_dict(width: int) -> dict:
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.backbone.base_channels = width
    init_default_scope('mmseg')
    return MODELS.build(cfg.model).state_dict()


def crafted(path: Path) -> str:
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': {'epoch': 1},
                'payload': WritesMarker(path.parent / 'code_ran')}, path)
    return 'Refusing to load checkpoint'


def truncated(path: Path) -> str:
    torch.save({'state_dict': demo_state_dict(TINY_WIDTH), 'meta': {'epoch': 1}}, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return 'is truncated or damaged'


def authors_unconverted(path: Path) -> str:
    torch.save({'epoch': 400, 'state_dict': {
        'decode_head.Conv1.conv_layer.0.0.weight': torch.randn(16, 3, 3, 3),
        'decode_head.max_channel1.fc1.weight': torch.randn(16, 16)}}, path)
    return 'convert it once with tools/model_converters/serankdet2mmseg.py'


def another_width(path: Path) -> str:
    # The demo config builds width 16; this model was width 4.
    torch.save({'state_dict': demo_state_dict(TINY_WIDTH),
                'meta': {'epoch': 1, 'iter': 2}}, path)
    return 'trained at another width'


BAD_FILES: Dict[str, Callable[[Path], str]] = {
    'crafted_pickle': crafted, 'truncated': truncated,
    'authors_unconverted': authors_unconverted, 'another_width': another_width}


def tool_commands(checkpoint: Path, data_root: Path, tmp_path: Path) -> Dict[str, List]:
    """Each tool on ``checkpoint`` (at the config's own width, 16)."""
    data = ['--cfg-options', *[option for option in tiny_run_options(data_root)
                               if not option.startswith('model.')]]
    return {
        'test': ['tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir', tmp_path / 'test',
                 *data],
        'infer': ['tools/infer.py', DEMO_CONFIG, checkpoint, data_root / 'images',
                  '--out', tmp_path / 'infer', *data],
        'export_onnx': ['tools/deployment/export_onnx.py', DEMO_CONFIG, checkpoint,
                        tmp_path / 'model.onnx'],
        'train_resume': ['tools/train.py', DEMO_CONFIG, '--work-dir', checkpoint.parent,
                         '--resume', *data],
    }


@pytest.mark.parametrize('bad_file', sorted(BAD_FILES))
def test_every_tool_gives_one_file_the_same_one_line_error_and_hint(
        bad_file, tiny_synthetic_root, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    checkpoint = work_dir / 'epoch_1.pth'
    hint = BAD_FILES[bad_file](checkpoint)
    (work_dir / 'last_checkpoint').write_text(str(checkpoint))  # for --resume
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    answers = {}
    for tool, command in tool_commands(checkpoint, tiny_synthetic_root, tmp_path).items():
        result = subprocess.run([sys.executable, *map(str, command)], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode != 0, f'{tool} exited 0:\n{result.stderr[-3000:]}'
        assert 'Traceback' not in result.stderr, f'{tool}:\n{result.stderr[-3000:]}'
        lines = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
        assert len(lines) == 1, f'{tool}:\n{result.stderr[-3000:]}'
        answers[tool] = lines[0]
    assert len(set(answers.values())) == 1, answers
    answer = answers['test']
    assert hint in answer and f'"{checkpoint}"' in answer
    assert not (work_dir / 'code_ran').exists(), 'the pickled payload ran'
