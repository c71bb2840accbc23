"""A toy model and a factory for tiny mmengine Runners to exercise hooks."""
import math
from typing import Callable, List, Optional

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmseg_serank  # noqa: F401  (registers the project's hooks)


class ToyDataset(Dataset):
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> dict:
        value = torch.tensor([float(index % 4), 1.0])
        return dict(inputs=value, targets=value.sum(0, keepdim=True))


class ToyRegressor(BaseModel):
    """Linear regression whose loss turns NaN from call ``nan_from_call`` on."""

    def __init__(self, nan_from_call: Optional[int] = None) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.nan_from_call = nan_from_call
        self.calls = 0

    def forward(self, inputs, targets=None, mode: str = 'tensor'):
        prediction = self.linear(inputs)
        if mode != 'loss':
            return prediction
        self.calls += 1
        loss = ((prediction - targets)**2).mean()
        if self.nan_from_call is not None and self.calls >= self.nan_from_call:
            loss = loss * math.nan
        return dict(loss_mse=loss)


class ToyBNRegressor(ToyRegressor):
    """ToyRegressor with a BatchNorm after the linear layer whose running
    variance overflows to inf at call ``huge_batch_call`` (one batch scaled by
    1e30) while that step's loss stays finite: the normalised output is 0."""

    def __init__(self, huge_batch_call: int, nan_from_call: Optional[int] = None) -> None:
        super().__init__(nan_from_call)
        self.bn = torch.nn.BatchNorm1d(1)
        self.huge_batch_call = huge_batch_call

    def forward(self, inputs, targets=None, mode: str = 'tensor'):
        if mode == 'loss' and self.calls + 1 == self.huge_batch_call:
            inputs = inputs * 1e30
        prediction = self.linear(inputs)
        if mode != 'loss':
            return self.bn(prediction)
        self.calls += 1
        loss = ((self.bn(prediction) - targets)**2).mean()
        if self.nan_from_call is not None and self.calls >= self.nan_from_call:
            loss = loss * math.nan
        return dict(loss_mse=loss)


@pytest.fixture
def make_toy_runner(tmp_path) -> Callable[..., Runner]:
    """Build an iteration-based Runner (in ``tmp_path/work`` unless ``work_dir``
    is given) from hook configs."""
    runners: List[Runner] = []

    def make(max_iters: int, checkpoint: dict, custom_hooks=(), nan_from_call=None,
             resume: bool = False, model: Optional[BaseModel] = None,
             work_dir: Optional[str] = None) -> Runner:
        runner = Runner(
            model=model if model is not None else ToyRegressor(nan_from_call),
            work_dir=str(work_dir or tmp_path / 'work'),
            # Unique per test: message hubs are global, keyed by this name.
            experiment_name=f'toy_{tmp_path.name}_{len(runners)}',
            train_dataloader=dict(dataset=ToyDataset(), batch_size=2, num_workers=0,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=False, max_iters=max_iters),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            default_hooks=dict(checkpoint=checkpoint, logger=None),
            custom_hooks=list(custom_hooks),
            default_scope='mmseg',
            log_level='WARNING',
            resume=resume)
        runners.append(runner)
        return runner

    return make
