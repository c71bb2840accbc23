"""Test (and optionally visualise) a checkpoint with mmseg's runner.

mmseg's own tools/test.py plus what it gets wrong for IRSTD:

- the checkpoint is loaded strictly (mmengine only warns on a misfit and the
  run scores random weights), before anything is written;
- a metric threshold that differs from the head's is refused (one threshold);
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

import mmseg_serank  # noqa: F401  (registers modules, applies compat patches)
from mmseg_serank.apis import CHECKPOINT_ERRORS, load_checkpoint_strict
from mmseg_serank.evaluation.metrics import format_metrics_table
from mmseg_serank.thresholds import check_threshold
from mmseg_serank.visualization import prepare_picture_dir

# Settings a picture must share with the metric so both tell the same story.
SHARED_DETECTION_SETTINGS = ('threshold', 'match_distance', 'connectivity')


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


def check_one_threshold(cfg: Config) -> None:
    """Refuse a run whose metric threshold differs from the model's head threshold
    (the masks and the scores would then disagree); validate both ranges."""
    head = cfg.model.get('decode_head', {})
    if head.get('out_channels', 1) != 1 or head.get('threshold') is None:
        return
    try:
        head_threshold = check_threshold(head.threshold, 'model.decode_head.threshold')
        for metric in irstd_metric_configs(cfg):
            if metric.get('threshold') is None:
                continue
            value = check_threshold(metric.threshold, 'test_evaluator threshold')
            if value != head_threshold:
                raise ValueError(
                    f'test_evaluator threshold={value} differs from '
                    f'model.decode_head.threshold={head_threshold}: the scores would '
                    'not describe the predicted masks. Set the threshold once, as '
                    'model.decode_head.threshold, and leave the metric\'s unset.')
    except ValueError as error:
        raise SystemExit(f'error: {error}') from None


def unique_path(directory: str, stem: str, suffix: str) -> str:
    """``directory/stem{suffix}``, or with ``_1``, ``_2``... if that exists."""
    path = osp.join(directory, stem + suffix)
    count = 0
    while osp.exists(path):
        count += 1
        path = osp.join(directory, f'{stem}_{count}{suffix}')
    return path


def use_irstd_visualization(cfg: Config, show_dir: str, interval: int) -> None:
    """Draw with IRSTDVisualizationHook into ``show_dir``, with the metric's
    detection settings, whatever visualisation hook the config names."""
    hook = dict(type='IRSTDVisualizationHook', draw=True, interval=interval,
                out_dir=show_dir)
    for metric in irstd_metric_configs(cfg):
        hook.update({key: metric[key] for key in SHARED_DETECTION_SETTINGS
                     if key in metric})
        break
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
    check_one_threshold(cfg)
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
        raise SystemExit(f'error: {error}') from None
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
