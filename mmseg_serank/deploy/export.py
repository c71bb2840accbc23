"""Export a SeRankDet segmentor to one ONNX file that takes any image size.

The exported graph is the deploy form (CDCs and BNs folded) wrapped with the
data preprocessor's channel flip and normalisation in front and the crop to
the input size and the sigmoid behind, so a backend only needs raw pixels.
The legacy TorchScript exporter (``dynamo=False``) is used: the model keeps
every size-dependent quantity (padding to a multiple of 16, K of the top-K,
the positional code, the crop) as tensor operations of the traced sizes, so
they become graph operations. ``torch.onnx.export(dynamo=True)`` needs
torch.export to prove properties of data-dependent shapes (the ranked
positions come from ``nonzero``) and is not used.
"""
import copy
import os
import tempfile
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmseg.registry import MODELS
from torch import Tensor

from ..compat.checkpoint import load_checkpoint_safely

OPSET = 17
INPUT_NAME = 'image'
OUTPUT_NAME = 'probability'
FORMAT_KEY = 'mmseg_serank.format'
FORMAT = 'serankdet-probability/1'
"""Metadata that marks a file written by :func:`export_onnx` (checked by the runners)."""
TRACE_SIZE = (64, 96)
CHECK_SIZES: Tuple[Tuple[int, int, int], ...] = ((1, 64, 96), (1, 33, 47), (2, 200, 136),
                                                 (1, 96, 352))
"""(batch, height, width) of the export check: the traced size, sizes that are
not multiples of 16, a batch of two, and sizes larger than the traced one."""


class ProbabilityModel(nn.Module):
    """Raw N x 3 x H x W pixels -> target probability N x 1 x H x W.

    Does what the segmentor's inference path does for one-channel heads:
    channel flip and normalisation of the data preprocessor, backbone and
    fused head map, crop of the backbone's bottom/right padding, sigmoid.
    """

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        preprocessor = segmentor.data_preprocessor
        if getattr(preprocessor, 'test_cfg', None):
            raise ValueError('data_preprocessor.test_cfg (test-time padding) is not '
                             'supported by the export; the backbone pads itself')
        if segmentor.decode_head.out_channels != 1:
            raise ValueError('only one-channel (sigmoid) heads can be exported, got '
                             f'out_channels={segmentor.decode_head.out_channels}')
        self.flip_channels = bool(getattr(preprocessor, 'channel_conversion', False))
        normalize = bool(getattr(preprocessor, '_enable_normalize', False))
        mean = preprocessor.mean if normalize else torch.zeros(3, 1, 1)
        std = preprocessor.std if normalize else torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.detach().clone().view(1, -1, 1, 1))
        self.register_buffer('std', std.detach().clone().view(1, -1, 1, 1))
        self.backbone = segmentor.backbone
        self.decode_head = segmentor.decode_head

    def forward(self, image: Tensor) -> Tensor:
        height, width = image.shape[-2:]
        if self.flip_channels:
            image = image.flip(1)
        features = self.backbone((image - self.mean) / self.std)
        logits = self.decode_head(features)
        return logits[..., :height, :width].sigmoid()


def build_segmentor(config: str, cfg_options: Optional[dict] = None,
                    deploy: bool = False) -> nn.Module:
    """The config's model in eval mode (deploy form if ``deploy``)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if deploy:
        cfg.model.backbone.deploy = True
        cfg.model.decode_head.deploy = True
    return MODELS.build(cfg.model).eval()


def load_segmentor(config: str, checkpoint: str,
                   cfg_options: Optional[dict] = None) -> Tuple[nn.Module, nn.Module]:
    """(eval form or None, deploy form) of a trained or reparameterised checkpoint.

    Checkpoints written by tools/deploy/reparameterize.py (``meta.deploy``)
    load into the deploy form directly; their eval form is gone, so the first
    item is None. Keys must match exactly (``strict``).
    """
    state = load_checkpoint_safely(checkpoint, map_location='cpu')
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint}: not a checkpoint (a {type(state).__name__})')
    is_deploy = bool(state.get('meta', {}).get('deploy')) if 'meta' in state else False
    state_dict = state.get('state_dict', state)
    state_dict = {key[len('module.'):] if key.startswith('module.') else key: value
                  for key, value in state_dict.items()}
    model = build_segmentor(config, cfg_options, deploy=is_deploy)
    try:
        load_state_dict(model, state_dict, strict=True)
    except RuntimeError as error:
        raise ValueError(f'{checkpoint} does not fit the model of {config}: {error}') from None
    if is_deploy:
        return None, model
    deployed = copy.deepcopy(model)
    deployed.backbone.switch_to_deploy()
    deployed.decode_head.switch_to_deploy()
    return model, deployed.eval()


def export_onnx(model: ProbabilityModel, path: str, opset: int = OPSET) -> None:
    """Trace ``model`` into ``path`` with dynamic batch, height and width."""
    import onnx
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    sample = torch.rand(1, 3, *TRACE_SIZE) * 255
    # The tracer warns about every Python value it records; the check at
    # several sizes in write_verified_onnx is what proves none of them matters.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', 'You are using the legacy TorchScript-based ONNX',
                                DeprecationWarning)
        torch.onnx.export(model.eval(), (sample, ), path, dynamo=False,
                          opset_version=opset, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic})
    proto = onnx.load(path)
    entry = proto.metadata_props.add()
    entry.key, entry.value = FORMAT_KEY, FORMAT
    onnx.save(proto, path)


class TorchRunner:
    """A :class:`ProbabilityModel` behind the runners' numpy interface."""

    backend = 'pytorch'

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model(torch.from_numpy(np.asarray(images, np.float32))).numpy()


def check_sizes_images(sizes: Sequence[Tuple[int, int, int]], seed: int = 0) -> List[Tensor]:
    """Random raw-pixel batches (0..255) of the given (N, H, W)."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(n, 3, h, w, generator=generator) * 255 for n, h, w in sizes]


def max_differences(reference: Callable[[np.ndarray], np.ndarray],
                    run: Callable[[np.ndarray], np.ndarray],
                    images: Sequence[Tensor]) -> Dict[str, float]:
    """Max abs probability difference between two runners, per N x H x W."""
    differences = {}
    for image in images:
        expected = reference(image.numpy())
        actual = run(image.numpy())
        if actual.shape != expected.shape:
            raise ValueError(f'output shape {actual.shape} != PyTorch {expected.shape}')
        key = 'x'.join(str(s) for s in (image.shape[0], *image.shape[2:]))
        differences[key] = float(np.abs(actual - expected).max())
    return differences


def write_verified_onnx(model: ProbabilityModel, out: str, tolerance: float = 1e-4,
                        sizes: Sequence[Tuple[int, int, int]] = CHECK_SIZES,
                        opset: int = OPSET) -> Dict[str, float]:
    """Export, check with ONNX Runtime at ``sizes`` and only then move to ``out``.

    Raises ValueError (and leaves nothing at ``out``) when any size differs by
    more than ``tolerance``; returns the differences otherwise.
    """
    from .runners import OnnxRuntimeRunner
    directory = os.path.dirname(os.path.abspath(out))
    handle, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(out) + '.', suffix='.tmp',
                                   dir=directory)
    os.close(handle)
    try:
        export_onnx(model, tmp, opset)
        differences = max_differences(TorchRunner(model), OnnxRuntimeRunner(tmp),
                                      check_sizes_images(sizes))
        worst = max(differences.values())
        if not worst <= tolerance:
            raise ValueError(
                f'the exported model differs from PyTorch by {worst:.3g} > {tolerance:g} '
                f'(max abs probability difference per NxHxW: {differences}); '
                f'not writing {out}')
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return differences
