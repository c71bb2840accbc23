"""A tiny SeRankDet checkpoint and its export by the real tool, shared by the deploy tests."""
import sys
from pathlib import Path

import pytest
import torch
from test_models.conftest import randomise_norms_and_gammas
from test_tools.conftest import (
    DEMO_CONFIG,
    run_tool,
    tiny_model_options,
    tiny_synthetic_root,  # noqa: F401  (a fixture of the peer export test)
)

from mmseg_serank.deploy.export import build_segmentor

WIDTH = 4
PARITY_SIZES = ((128, 128), (96, 352), (200, 136), (33, 47), (512, 512))


def width_options(width: int = WIDTH) -> dict:
    """tiny_model_options as the cfg_options dict of the library functions."""
    return {'model.backbone.base_channels': width}


def randomise_statistics(model: torch.nn.Module, seed: int = 0) -> None:
    """BN statistics and LSFF gammas of a trained model, so folding and fusion matter.

    Random weights are kept in a range where rounding is not amplified beyond
    what float32 can hold: the LSFF modulation is quadratic in its input, so a
    gamma much above 0.01 makes the logits explode (1e16 at 0.5), and BN scales
    drawn from 0.5..1.5 grow the features so much over 40 layers that the
    PyTorch eval and deploy forms alone differ by 1.2e-4 at 512x512 (6e-6 with
    0.8..1.2)."""
    randomise_norms_and_gammas(model, seed, scale=(0.8, 1.2), variance=(0.8, 1.2),
                               gamma=0.01)


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A width-4 demo-config model with non-trivial BN statistics, saved as mmengine does."""
    torch.manual_seed(0)
    model = build_segmentor(str(DEMO_CONFIG), width_options())
    randomise_statistics(model)
    path = tmp_path_factory.mktemp('deploy') / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture(scope='session')
def exported_onnx(tiny_checkpoint) -> Path:
    """tools/deployment/export_onnx.py run on the tiny checkpoint."""
    out = tiny_checkpoint.parent / 'tiny.onnx'
    run_tool([sys.executable, 'tools/deployment/export_onnx.py', DEMO_CONFIG, tiny_checkpoint,
              out, '--cfg-options', *tiny_model_options(WIDTH)])
    return out
