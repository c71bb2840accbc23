"""NonFiniteLossHook stops training at a NaN loss before it reaches a checkpoint."""
import math
import os.path as osp

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner import load_checkpoint

from mmseg_serank.engine.hooks import NonFiniteLossHook
from mmseg_serank.engine.hooks.nonfinite_loss_hook import non_finite_loss_terms

from .conftest import ToyBNRegressor, ToyRegressor


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


def test_message_warns_when_the_last_checkpoint_already_holds_inf(make_toy_runner):
    """mmengine's CheckpointHook saves every iteration; a batch at call 3 makes
    BN's running_var inf with a finite loss, the loss turns NaN at call 5."""
    runner = make_toy_runner(
        max_iters=8, model=ToyBNRegressor(huge_batch_call=3, nan_from_call=5),
        checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(RuntimeError, match=r'iteration 5 ') as error:
        runner.train()
    message = str(error.value)
    assert 'iter_4.pth, already holds NaN/inf in bn.running_var' in message
    assert 'do not resume from it' in message
    model = ToyBNRegressor(huge_batch_call=0)
    load_checkpoint(model, osp.join(runner.work_dir, 'iter_4.pth'), map_location='cpu')
    assert not torch.isfinite(model.bn.running_var).all()


def test_message_names_a_good_last_checkpoint(make_toy_runner):
    runner = make_toy_runner(
        max_iters=8, nan_from_call=4,
        checkpoint=dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                        max_keep_ckpts=5),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(RuntimeError, match=r'iter_3\.pth, holds finite values only'):
        runner.train()
