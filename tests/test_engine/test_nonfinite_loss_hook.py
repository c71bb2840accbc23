"""NonFiniteLossHook stops training at a NaN loss before it reaches a checkpoint."""
import math
import os.path as osp

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner import load_checkpoint

from mmseg_serank.engine.hooks import NonFiniteLossHook
from mmseg_serank.engine.hooks.nonfinite_loss_hook import non_finite_loss_terms

from .conftest import ToyRegressor


def test_names_only_the_non_finite_loss_terms():
    outputs = dict(loss=torch.tensor(math.inf), decode_loss_iou=torch.tensor(math.inf),
                   aux_loss_iou=torch.tensor(0.5),
                   decode_acc_seg=torch.tensor(math.nan))
    terms = non_finite_loss_terms(outputs)
    assert terms == ['loss=inf', 'decode_loss_iou=inf']
    assert non_finite_loss_terms(dict(loss=torch.tensor(0.2), acc=math.nan)) == []


def test_runs_before_the_checkpoint_hook():
    priority = NonFiniteLossHook().priority
    assert priority == 'ABOVE_NORMAL'
    assert CheckpointHook.priority == 'VERY_LOW'


def test_nan_loss_stops_training_and_keeps_the_good_checkpoints(make_toy_runner):
    runner = make_toy_runner(
        max_iters=8, nan_from_call=4,
        checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(RuntimeError, match=r'iteration 4 .*loss_mse=nan'):
        runner.train()
    work_dir = runner.work_dir
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))
    with open(osp.join(work_dir, 'last_checkpoint')) as file:
        last = file.read().strip()
    assert osp.basename(last) == 'iter_3.pth'
    model = ToyRegressor()
    checkpoint = load_checkpoint(model, last, map_location='cpu')
    assert checkpoint['meta']['iter'] == 3
    assert all(torch.isfinite(p).all() for p in model.parameters())
    # The running model itself was poisoned by the NaN step the hook reported.
    assert not torch.isfinite(runner.model.linear.weight).all()


def test_without_the_hook_nan_weights_reach_a_checkpoint(make_toy_runner):
    runner = make_toy_runner(
        max_iters=5, nan_from_call=4,
        checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False))
    runner.train()
    model = ToyRegressor()
    load_checkpoint(model, osp.join(runner.work_dir, 'iter_5.pth'), map_location='cpu')
    assert not torch.isfinite(model.linear.weight).all()
