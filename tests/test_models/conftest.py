"""Shared builders for the SeRankDet model tests (tiny widths for speed)."""
import os.path as osp
from typing import Optional, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers SeRankDet)

from tiny_configs import set_serankdet_width

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
BASE_MODEL_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'models', 'serankdet.py')


def build_segmentor(base_channels: int = 4, backbone_and_head: Optional[dict] = None,
                    **backbone_overrides) -> torch.nn.Module:
    """SeRankDet of the given width; ``backbone_and_head`` settings (e.g.
    ``deploy``, ``norm_cfg``) go to both parts, the keywords to the backbone."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_MODEL_CONFIG)
    set_serankdet_width(cfg.model, base_channels)
    cfg.model.backbone.update(backbone_overrides)
    cfg.model.backbone.update(backbone_and_head or {})
    cfg.model.decode_head.update(backbone_and_head or {})
    return MODELS.build(cfg.model)


def randomise_norms_and_gammas(model: torch.nn.Module, seed: int = 0,
                               scale: Tuple[float, float] = (0.5, 1.5),
                               variance: Tuple[float, float] = (0.5, 2.0),
                               gamma: float = 0.5) -> None:
    """Non-trivial BN statistics and LSFF gammas so every path matters: BN
    scales and running variances uniform in the given ranges, small random
    shifts and means, every LSFF ``gamma`` set to ``gamma``."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(*scale, generator=generator)
                module.bias.normal_(0.0, 0.1, generator=generator)
                module.running_mean.normal_(0.0, 0.1, generator=generator)
                module.running_var.uniform_(*variance, generator=generator)
        for name, parameter in model.named_parameters():
            if name.endswith('gamma'):
                parameter.fill_(gamma)


@pytest.fixture
def tiny_segmentor() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_segmentor()
