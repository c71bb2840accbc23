"""The README's analysis commands, run as written at a reduced budget."""
import csv
import os
import re
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, run_tool

pytestmark = pytest.mark.slow

SIRST = Path(os.environ.get('IRSTD_SIRST_ROOT', REPO_ROOT.parent / 'shared/data/sirst'))


COMPARISON_SCRIPT = REPO_ROOT / 'tools/analysis_tools/sirst_cpu_comparison.sh'


def test_sirst_cpu_comparison_runs_every_comparison_config_by_default():
    """Its default list is every ``*_1xb4-1k_sirst-256x256.py`` config: SeRankDet-lite16,
    the six peer networks and the three stock models."""
    listed = re.findall(r'^\s+(configs/\S+\.py)$', COMPARISON_SCRIPT.read_text(), re.MULTILINE)
    shipped = sorted(str(p.relative_to(REPO_ROOT))
                     for p in REPO_ROOT.glob('configs/*/*_1xb4-1k_sirst-256x256.py'))
    assert sorted(listed) == shipped and len(listed) == 10


def sirst_subset(root: Path, num_trainval: int, num_test: int) -> Path:
    """The real SIRST release in its own layout, with shorter split lists:
    the images and masks folders are links to the release's."""
    root.mkdir(parents=True)
    for name in ('images', 'masks'):
        (root / name).symlink_to(SIRST / name, target_is_directory=True)
    (root / 'idx_427').mkdir()
    for split, count in (('trainval', num_trainval), ('test', num_test)):
        names = (SIRST / 'idx_427' / f'{split}.txt').read_text().split()[:count]
        (root / 'idx_427' / f'{split}.txt').write_text('\n'.join(names) + '\n')
    return root


def test_sirst_cpu_comparison_command_on_the_real_data(tmp_path):
    """tools/analysis_tools/sirst_cpu_comparison.sh on real SIRST images (the release's
    layout; 16 trainval and 8 test images, as scoring all 86 test images at
    native size three times took most of a minute and a half of CI), two
    iterations instead of 1000, for SeRankDet-lite16, a one-channel peer (RDIAN)
    and a stock model (its whole default list of ten would take minutes of CI
    time): one table row per model and the curves picture."""
    if not (SIRST / 'idx_427' / 'test.txt').exists():
        pytest.skip(f'the real SIRST data set is not at {SIRST}')
    configs = ['configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py',
               'configs/rdian/rdian_1xb4-1k_sirst-256x256.py',
               'configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py']
    data_root = sirst_subset(tmp_path / 'sirst', num_trainval=16, num_test=8)
    run_tool(['bash', COMPARISON_SCRIPT, data_root, tmp_path / 'bench', *configs],
             timeout=900, env_extra=dict(PYTHON=sys.executable, ITERS='2'))
    with open(tmp_path / 'bench' / 'benchmark.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert [row['model'] for row in rows] == [
        'serankdet-lite16_1xb4-1k_sirst-256x256', 'rdian_1xb4-1k_sirst-256x256',
        'unet-s5-d16_fcn_1xb4-1k_sirst-256x256']
    for row in rows:
        assert 0 <= float(row['IoU']) <= 100 and float(row['params (M)']) > 0
    assert '2 training iterations per model' in (tmp_path / 'bench' / 'benchmark.md').read_text()
    assert (tmp_path / 'bench' / 'benchmark_curves.png').stat().st_size > 10_000


def test_benchmark_backends_prints_every_path():
    """tools/analysis_tools/benchmark_backends.py on a tiny model: one row per path,
    each exported backend within 1e-4 of the eval form."""
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark_backends.py',
                       '--widths', '4', '--sizes', '48', '--repeats', '1'], timeout=600)
    rows = [line.split('|')[1:-1] for line in result.stdout.splitlines()
            if line.startswith('| 4 |')]
    paths = [cells[2].strip() for cells in rows]
    assert paths == ['PyTorch eval form', 'PyTorch deploy form', 'PyTorch deploy, channels_last',
                     'ONNX Runtime', 'OpenVINO (f32)']
    for cells in rows[3:]:
        assert float(cells[6]) <= 1e-4, cells
