"""mmengine checkpoints load with weights_only=True; foreign pickles are refused."""
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmseg_serank.checkpoint import (
    CheckpointFormatError,
    CheckpointSecurityError,
    load_checkpoint_safely,
)


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


def test_security_refusal_never_advises_weights_only_false(tmp_path):
    evil = tmp_path / 'evil.pth'
    torch.save({'extra': _Payload()}, evil)
    with pytest.raises(CheckpointSecurityError) as error:
        load_checkpoint_safely(str(evil))
    message = str(error.value)
    assert 'weights_only=False' not in message.replace(
        'Do not load it with weights_only=False', '')
    # torch's own advice (switch weights_only off, or allow-list the object) is cut.
    assert '`weights_only` set to `False`' not in message
    assert 'add_safe_globals' not in message
    assert 'unsupported GLOBAL posix.system' in message
    assert "torch.save({'state_dict': model.state_dict()}" in str(error.value)


def test_empty_file_is_reported_as_empty(tmp_path):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointFormatError, match=r'empty.pth" is empty \(0 bytes\)'):
        _load_checkpoint(str(empty), map_location='cpu')


def test_text_file_is_reported_as_no_checkpoint(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('these are my notes, not weights\n')
    with pytest.raises(CheckpointFormatError,
                       match='notes.pth" is not a PyTorch checkpoint: it is neither a zip'):
        _load_checkpoint(str(text), map_location='cpu')


@pytest.mark.parametrize('zip_format', [True, False])
def test_truncated_file_is_reported_as_truncated(tmp_path, zip_format):
    whole = tmp_path / 'whole.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, whole,
               _use_new_zipfile_serialization=zip_format)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    with pytest.raises(CheckpointFormatError, match='cut.pth" is truncated or damaged'):
        _load_checkpoint(str(cut), map_location='cpu')


def test_numpy_values_load_under_either_numpy_module_name(tmp_path):
    """The official code saves numpy losses and scores; numpy 1 pickles them as
    numpy.core.multiarray.scalar, numpy 2 as numpy._core.multiarray.scalar."""
    path = tmp_path / 'numpy_values.pth'
    torch.save({'loss': np.float64(0.25), 'f1': [np.arange(3.0)]}, path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    module = b'numpy.core.multiarray' if b'numpy.core.multiarray' in data else (
        b'numpy._core.multiarray')
    other = (b'numpy._core.multiarray' if module == b'numpy.core.multiarray'
             else b'numpy.core.multiarray')
    renamed = tmp_path / 'renamed.pth'
    # Protocol 2 names globals as text lines, so the other name fits in place.
    renamed.write_bytes(data.replace(module + b'\n', other + b'\n'))
    assert other in renamed.read_bytes()
    for file in (path, renamed):
        loaded = load_checkpoint_safely(str(file))
        assert loaded['loss'] == 0.25
        assert np.array_equal(loaded['f1'][0], np.arange(3.0))
