"""Test (and optionally visualise) a checkpoint with mmseg's runner.

mmseg's own tools/test.py plus what it gets wrong for IRSTD:

- the checkpoint is loaded strictly (mmengine only warns on a misfit and the
  run scores random weights), before anything is written;
- one threshold: ``--threshold`` sets ``model.decode_head.threshold``, which
  makes the masks the metric scores and the pictures show (IRSTDMetric and the
  visualisation hook take none of their own);
- ``--show-dir`` is checked for writing before the run and draws hits, misses
  and false alarms (IRSTDVisualizationHook) instead of class colours;
- ``--tta`` uses the config's ``tta_model`` (IRSTDTTAModel averages the
  probabilities; mmseg's SegTTAModel applies the sigmoid twice);
- the scores are printed as a table and saved with the config and checkpoint
  they came from in ``<work_dir>/test_results/<timestamp>_metrics.json``
  (mmengine's ``<timestamp>.json`` records the numbers but not what was tested).
"""
import argparse
import json
import math
import os
import os.path as osp
import time
from typing import Iterator, List

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner

from mmseg_serank.checkpoint import (
    CHECKPOINT_ERRORS,
    checkpoint_error_message,
    load_checkpoint_strict,
)
from mmseg_serank.compat import enable_cpu_distributed
from mmseg_serank.evaluation.metrics import format_metrics_table
from mmseg_serank.thresholds import check_setting_owners, set_config_threshold
from mmseg_serank.visualization import prepare_picture_dir


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a segmentor checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for logs and results')
    parser.add_argument(
        '--show-dir',
        help='write hit / miss / false-alarm pictures of every image here')
    parser.add_argument(
        '--show-interval', type=int, default=1,
        help='with --show-dir, draw the images of every n-th batch')
    parser.add_argument(
        '--threshold', type=float,
        help='probability in [0, 1) above which a pixel is target: sets '
             "model.decode_head.threshold (default: the config's)")
    parser.add_argument(
        '--tta', action='store_true',
        help="test-time augmentation: the config's tta_pipeline and tta_model")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def irstd_metric_configs(cfg: Config) -> Iterator[ConfigDict]:
    """The IRSTDMetric entries of ``cfg.test_evaluator`` (dict or list)."""
    evaluator = cfg.get('test_evaluator', None)
    entries = evaluator if isinstance(evaluator, list) else [evaluator]
    for entry in entries:
        if isinstance(entry, dict) and str(entry.get('type', '')).endswith(
                'IRSTDMetric'):
            yield entry


def unique_path(directory: str, stem: str, suffix: str) -> str:
    """``directory/stem{suffix}``, or with ``_1``, ``_2``... if that exists."""
    path = osp.join(directory, stem + suffix)
    count = 0
    while osp.exists(path):
        count += 1
        path = osp.join(directory, f'{stem}_{count}{suffix}')
    return path


def use_irstd_visualization(cfg: Config, show_dir: str, interval: int) -> None:
    """Draw with IRSTDVisualizationHook into ``show_dir``, whatever visualisation
    hook the config names (it reads the metric's detection settings itself)."""
    hook = dict(type='IRSTDVisualizationHook', draw=True, interval=interval,
                out_dir=show_dir)
    cfg.setdefault('default_hooks', ConfigDict())
    cfg.default_hooks.visualization = hook


def use_test_time_augmentation(cfg: Config) -> None:
    """Test through ``cfg.tta_model`` on ``cfg.tta_pipeline``, as mmseg does."""
    missing = [key for key in ('tta_pipeline', 'tta_model') if key not in cfg]
    if missing:
        raise SystemExit(f'--tta needs {" and ".join(missing)} in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def json_safe(metrics: dict) -> dict:
    """Floats for JSON; undefined scores (NaN) become null."""
    return {key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in ((k, float(v)) for k, v in metrics.items())}


def save_metrics(metrics: dict, results_dir: str, stem: str, args) -> str:
    os.makedirs(results_dir, exist_ok=True)
    path = unique_path(results_dir, stem, '_metrics.json')
    record = dict(config=osp.abspath(args.config),
                  checkpoint=osp.abspath(args.checkpoint),
                  metrics=json_safe(metrics))
    with open(path, 'w') as handle:
        json.dump(record, handle, indent=2)
    return path


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    try:  # one owner per setting, checked before anything runs
        check_setting_owners(cfg)
        if args.threshold is not None:
            set_config_threshold(cfg, args.threshold)
    except ValueError as error:
        raise SystemExit(f'error: {error}') from None
    if args.launcher != 'none':
        enable_cpu_distributed()
    # Loaded strictly below: the runner's own loading only warns on a misfit.
    cfg.load_from = None

    results_dir = osp.join(cfg.work_dir, 'test_results')
    stem = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    metric_configs: List[ConfigDict] = list(irstd_metric_configs(cfg))
    for metric in metric_configs:
        if metric.get('thresholds') is not None and metric.get('output_dir') is None:
            metric.output_dir = unique_path(results_dir, stem, '_curves')
    if args.show_dir:
        try:  # before the model is built and the checkpoint read
            prepare_picture_dir(args.show_dir)
        except OSError as error:
            raise SystemExit(f'--show-dir: {error}') from error
        use_irstd_visualization(cfg, args.show_dir, args.show_interval)
    if args.tta:
        use_test_time_augmentation(cfg)

    runner = Runner.from_cfg(cfg)
    try:
        load_checkpoint_strict(runner.model, args.checkpoint)
    except CHECKPOINT_ERRORS as error:
        raise SystemExit(f'error: {checkpoint_error_message(error)}') from None
    runner.logger.info(f'Loaded checkpoint {args.checkpoint}')
    metrics = runner.test()
    if runner.rank == 0 and metrics:
        print(format_metrics_table(metrics))
        path = save_metrics(metrics, results_dir, stem, args)
        print(f'metrics saved to {path}')
        if args.show_dir:
            print(f'pictures of hits / misses / false alarms in {args.show_dir}')


if __name__ == '__main__':
    main()
