"""tools/train.py on a machine without the data set: one line saying where to get it."""
import os
import subprocess
import sys

from .conftest import REPO_ROOT

README_CONFIG = 'configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py'


def test_training_without_the_data_set_says_where_it_comes_from(tmp_path):
    """The README's first config with no data/sirst ended in a FileNotFoundError traceback."""
    missing = tmp_path / 'sirst'
    result = subprocess.run(
        [sys.executable, 'tools/train.py', README_CONFIG, '--work-dir', str(tmp_path / 'work'),
         '--cfg-options', f'train_dataloader.dataset.data_root={missing}',
         f'val_dataloader.dataset.data_root={missing}', 'train_dataloader.num_workers=0',
         'val_dataloader.num_workers=0'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert (f'error: data root {missing} of SIRSTDataset does not exist: get it from '
            'https://github.com/YimianDai/sirst') in result.stderr, result.stderr[-3000:]
