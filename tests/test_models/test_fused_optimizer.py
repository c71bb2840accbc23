"""The schedules' fused AdamW: the optimizer users get, and the same run as the
per-tensor loop it replaced."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from .conftest import REPO_ROOT, build_segmentor, randomise_norms_and_gammas
from .test_serankdet_model import make_samples

SCHEDULE_CONFIGS = ['configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py',
                    'configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py']


@pytest.mark.parametrize('config', SCHEDULE_CONFIGS)
def test_fused_adamw_trains_as_the_per_tensor_loop(config):
    """Four seeded steps with the config's optimizer wrapper, fused and not, give
    the same losses and weights (float64, so that no rounding flips a SeRank top-K)."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    assert cfg.optim_wrapper.optimizer.fused is True
    torch.manual_seed(0)
    fused = build_segmentor(base_channels=4).double()
    randomise_norms_and_gammas(fused)
    loop = copy.deepcopy(fused)
    labels = torch.zeros(2, 32, 48)
    labels[:, 10:14, 20:23] = 1
    inputs = torch.randn(2, 3, 32, 48, dtype=torch.float64)
    losses = {}
    for name, model, is_fused in (('fused', fused, True), ('loop', loop, False)):
        wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
        wrapper_cfg.optimizer.fused = is_fused
        wrapper = build_optim_wrapper(model, wrapper_cfg)
        assert wrapper.optimizer.defaults['fused'] is is_fused
        model.train()
        losses[name] = []
        for _ in range(4):
            loss, _ = model.parse_losses(model.loss(inputs, make_samples(labels)))
            wrapper.update_params(loss)
            losses[name].append(loss.item())
    assert losses['fused'] == pytest.approx(losses['loop'], rel=1e-10)
    assert losses['fused'][-1] < losses['fused'][0]  # it trains
    for (name, got), expected in zip(fused.state_dict().items(), loop.state_dict().values()):
        assert torch.allclose(got.double(), expected.double(), rtol=1e-8, atol=1e-10), name
