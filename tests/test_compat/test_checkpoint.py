"""mmengine checkpoints load with weights_only=True; foreign pickles are refused."""
import os
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmseg_serank.compat import CheckpointSecurityError, load_checkpoint_safely


class _ToyRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        inputs = torch.stack(inputs)
        targets = torch.stack(targets)
        outputs = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((outputs - targets) ** 2).mean())
        return outputs


class _ToyData(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        x = torch.tensor([float(index), 1.0])
        return dict(inputs=x, targets=x.sum().view(1))


def _runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=_ToyRegressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_ToyData(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
        experiment_name=f'toy_{max_epochs}_{resume}')


def test_resume_restores_iteration_optimizer_and_scheduler(tmp_path):
    first = _runner(tmp_path, max_epochs=2)
    first.train()
    checkpoint_file = tmp_path / 'epoch_2.pth'
    assert checkpoint_file.exists()

    # The file really needs the allow-list: plain weights_only loading fails.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(checkpoint_file, weights_only=True)

    resumed = _runner(tmp_path, max_epochs=3, resume=True)
    resumed.load_or_resume()
    assert resumed.iter == first.iter == 4
    assert resumed.epoch == 2
    saved = load_checkpoint_safely(str(checkpoint_file))
    assert (resumed.optim_wrapper.state_dict()['state']
            .keys() == saved['optimizer']['state'].keys())
    momentum = resumed.optim_wrapper.state_dict()['state'][0]['momentum_buffer']
    assert torch.equal(momentum, saved['optimizer']['state'][0]['momentum_buffer'])
    assert (resumed.param_schedulers[0].state_dict()
            == first.param_schedulers[0].state_dict())
    resumed.train()
    assert resumed.iter == 6


class _Payload:
    """A pickled object that would run code when unpickled by plain pickle."""

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


def test_foreign_pickled_object_is_refused(tmp_path):
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'extra': _Payload()}, evil)
    with pytest.raises(CheckpointSecurityError, match='evil.pth'):
        _load_checkpoint(str(evil), map_location='cpu')


def test_plain_state_dict_checkpoint_loads(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'epoch': 3}}, path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['meta']['epoch'] == 3
