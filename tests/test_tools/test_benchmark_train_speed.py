"""tools/analysis_tools/benchmark_train_speed.py on a tiny model: one row per mode."""
import sys

import pytest

from .conftest import DEMO_CONFIG, run_tool

pytestmark = pytest.mark.slow


def test_train_speed_prints_images_per_second_and_tflops(tiny_synthetic_root):
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark_train_speed.py',
                       DEMO_CONFIG, '--iters', '2', '--warmup', '1', '--rounds', '1',
                       '--modes', 'fp32', '--cfg-options', 'model.backbone.base_channels=4',
                       f'train_dataloader.dataset.data_root={tiny_synthetic_root}',
                       'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0'])
    rows = [line.split('|')[1:-1] for line in result.stdout.splitlines()
            if line.startswith('| serankdet')]
    assert len(rows) == 1, result.stdout
    config, batch, path, images_per_second, _, ratio, tflops, share = (c.strip()
                                                                      for c in rows[0])
    assert (batch, path, ratio, share) == ('2', 'fp32', '1.00x', '-')  # CPU: no known peak
    assert float(images_per_second) > 0 and float(tflops) > 0
