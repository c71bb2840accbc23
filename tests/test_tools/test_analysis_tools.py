"""tools/analysis_tools/get_flops.py, tools/misc/browse_dataset.py and
tools/misc/print_config.py on every config.

Each tool runs once as the real command and on every shipped config in-process (the
same ``main``), on tiny data written in each dataset's layout, SeRankDet at width 4.
"""
import copy
import re
import sys

import cv2
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from .conftest import DEMO_CONFIG, REPO_ROOT, TOOL_SCRIPTS, load_tool, run_tool
from .test_every_config import CONFIGS, write_split

pytestmark = pytest.mark.slow

TOOL_MAINS = {name: load_tool(path).main for name, path in TOOL_SCRIPTS.items()}

ANALYZE_LOGS = [sys.executable, TOOL_SCRIPTS['analyze_logs']]
BROWSE_DATASET = [sys.executable, TOOL_SCRIPTS['browse_dataset']]
GET_FLOPS = [sys.executable, TOOL_SCRIPTS['get_flops']]
PRINT_CONFIG = [sys.executable, TOOL_SCRIPTS['print_config']]


def tools_main(argv: list) -> int:
    """Run the script named by argv[0] in-process, with the rest as its arguments."""
    return TOOL_MAINS[argv[0]](argv[1:])


def tiny_width(config_path) -> list:
    """SeRankDet at width 4 (one setting); the baselines are small enough as they are."""
    cfg = Config.fromfile(REPO_ROOT / config_path)
    if cfg.model.backbone.type == 'SeRankDet':
        return ['--cfg-options', 'model.backbone.base_channels=4']
    return []


def train_data_options(config_path, data_root) -> list:
    """Two train images where the config's dataset looks for them under ``data_root``."""
    cfg = Config.fromfile(REPO_ROOT / config_path)
    init_default_scope('mmseg')
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(data_root=str(data_root), lazy_init=True)
    write_split(DATASETS.build(dataset_cfg), [(45, 71), (64, 64)], seed=1)
    return [f'train_dataloader.dataset.data_root={data_root}']


def test_the_real_commands_run(tmp_path):
    printed = run_tool([*PRINT_CONFIG, DEMO_CONFIG, '--dump', tmp_path / 'c.py'])
    assert "type='IRSTDEncoderDecoder'" in printed.stdout
    assert Config.fromfile(tmp_path / 'c.py').model.backbone.base_channels == 8
    flops = run_tool([*GET_FLOPS, DEMO_CONFIG, '--shape', '128', '128',
                      '--cfg-options', 'model.backbone.base_channels=16'])
    # The README's figure for width 16 at 128x128: 2.32 GMACs, 8.131 M params.
    assert re.search(r'Flops: 2\.3\d*G', flops.stdout), flops.stdout
    assert re.search(r'Params: 8\.13\d*M', flops.stdout), flops.stdout
    options = train_data_options(DEMO_CONFIG.relative_to(REPO_ROOT), tmp_path / 'data')
    run_tool([*BROWSE_DATASET, DEMO_CONFIG, '--output-dir', tmp_path / 'vis',
              '--cfg-options', *options])
    assert sorted(p.name for p in (tmp_path / 'vis').iterdir()) == ['img1_0.png', 'img1_1.png']


@pytest.mark.parametrize('config_path', CONFIGS)
def test_every_config(config_path, tmp_path, capsys):
    assert tools_main(['print_config', str(REPO_ROOT / config_path)]) == 0
    assert 'IRSTDMetric' in capsys.readouterr().out

    assert tools_main(['get_flops', str(REPO_ROOT / config_path), '--shape', '64',
                       *tiny_width(config_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r'Flops: \d', out) and re.search(r'Params: \d', out), out

    options = train_data_options(config_path, tmp_path / 'data')
    out_dir = tmp_path / 'vis'
    assert tools_main(['browse_dataset', str(REPO_ROOT / config_path), '--max-samples', '1',
                       '--output-dir', str(out_dir), '--cfg-options', *options]) == 0
    pictures = list(out_dir.iterdir())
    assert len(pictures) == 1
    # Training crops are 128..512 px; the picture is enlarged to >= 512 px.
    assert cv2.imread(str(pictures[0])).shape[1] >= 512


def test_analyze_logs_plots_validation_metrics_by_epoch(trained_run, tmp_path):
    """A real run's scalars.json: IRSTD/IoU per epoch (not on an 'iter' axis), the loss
    per iteration, best and last values printed, a PNG written; no seaborn needed."""
    work_dir, _ = trained_run
    (log, ) = work_dir.glob('*/vis_data/scalars.json')
    out = tmp_path / 'curves.png'
    result = run_tool([*ANALYZE_LOGS, log,
                       '--keys', 'IRSTD/IoU', 'loss', '--legend', 'tiny', '--out', out])
    assert re.search(r'tiny: IRSTD/IoU best [\d.e+-]+ at epoch [12], last [\d.e+-]+ at '
                     r'epoch 2', result.stdout)
    assert re.search(r'tiny: loss best [\d.e+-]+ at iteration \d+', result.stdout)
    assert cv2.imread(str(out)) is not None


def test_analyze_logs_names_the_keys_a_log_has(trained_run, tmp_path, capsys):
    work_dir, _ = trained_run
    (log, ) = work_dir.glob('*/vis_data/scalars.json')
    with pytest.raises(SystemExit):
        tools_main(['analyze_logs', str(log), '--keys', 'mIoU', '--out',
                    str(tmp_path / 'x.png')])
    message = capsys.readouterr().err
    assert 'no "mIoU" in the log' in message and 'IRSTD/IoU' in message
    assert not (tmp_path / 'x.png').exists()
