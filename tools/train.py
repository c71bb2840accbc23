"""Train a segmentor with mmseg's runner; mmseg's tools/train.py plus IRSTD care.

Differences from the stock script: a job with a launcher runs on a CPU-only
host too (gloo, see :func:`mmseg_serank.compat.enable_cpu_distributed`), a
refused or misfit checkpoint (``load_from``, ``--resume``) is one line naming
the file and a hint, as in every tool, ``--amp`` on a machine without CUDA
falls back to fp32 with a warning instead of failing deep in mmengine, and
``--channels-last`` switches the model's memory format.
"""
import argparse
import logging
import os
import os.path as osp
import sys
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from mmseg_serank.checkpoint import CHECKPOINT_ERRORS, checkpoint_error_message
from mmseg_serank.compat import enable_cpu_distributed
from mmseg_serank.datasets.ir_image_io import IRImageReadError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (CUDA only)')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        default=False,
        help='train with channels_last memory format')
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


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to AMP, or warn and keep fp32 without CUDA."""
    if not torch.cuda.is_available():
        warnings.warn('--amp needs a CUDA device; none is available, so '
                      'training continues in fp32.', stacklevel=2)
        return
    optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_type == 'AmpOptimWrapper':
        print_log('AMP is already enabled in the config.', logger='current',
                  level=logging.WARNING)
        return
    if optim_type != 'OptimWrapper':
        raise ValueError(f'--amp supports OptimWrapper only, got {optim_type}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def main() -> int:
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
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    if args.launcher != 'none':
        enable_cpu_distributed()

    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg
              else RUNNERS.build(cfg))
    if args.channels_last:
        runner.model.to(memory_format=torch.channels_last)
    try:
        runner.train()
    except (*CHECKPOINT_ERRORS, IRImageReadError) as error:
        # A data set not downloaded, a damaged image, a refused or misfit
        # checkpoint (load_from / --resume): the message names the file and
        # what to do; the traceback would only bury it.
        message = (checkpoint_error_message(error) if isinstance(error, CHECKPOINT_ERRORS)
                   else error)
        print_log(f'error: {message}', logger='current', level=logging.ERROR)
        print(f'error: {message}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
