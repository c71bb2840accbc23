"""Test-only plugin: each rank writes what it ended training with.

Imported into a ``tools/dist_train.sh`` run through ``custom_imports`` so the
2-process test can check that both ranks hold the same weights and saw the
same validation metrics.
"""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Dump a parameter checksum and the last validation metrics per rank."""

    def __init__(self) -> None:
        self.last_metrics: dict = {}

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.last_metrics = {key: float(value) for key, value in (metrics or {}).items()}

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        checksum = float(sum(param.double().sum() for param in model.parameters()))
        record = dict(rank=get_rank(), checksum=checksum, iter=runner.iter,
                      metrics=self.last_metrics,
                      world_size=torch.distributed.get_world_size()
                      if torch.distributed.is_initialized() else 1)
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.json'), 'w') as handle:
            json.dump(record, handle)
