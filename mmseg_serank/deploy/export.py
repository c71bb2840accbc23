"""Export a SeRankDet segmentor to one ONNX file that takes any image size.

The exported graph is the deploy form (CDCs and BNs folded) wrapped with the
data preprocessor's channel flip and normalisation in front and the crop to
the input size and the sigmoid behind, so a backend only needs raw pixels.
The TorchScript exporter (``dynamo=False``, opset 17) is used: while it
traces, tensor sizes are tensors, and the model keeps every size-dependent
quantity (padding to a multiple of 16, K of the top-K, the positional code,
the crop) as tensor operations of them, so they become graph operations. The
dynamo exporter failed on the earlier Python shape arithmetic and was not
adopted; the ranked positions come from ``nonzero`` (a data-dependent shape),
which torch.export only accepts with extra shape annotations.
"""
import copy
import hashlib
import json
import os
import tempfile
import warnings
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmseg.registry import MODELS
from torch import Tensor

from ..checkpoint.fitting import check_fit
from ..checkpoint.loading import read_checkpoint
from ..checkpoint.saving import check_replaceable
from ..models.data_preprocessor import bgr_to_grey
from ..models.decode_heads.multi_output_head import MultiOutputHead
from ..models.layers.serank_attention import rank_positions

OPSET = 17
INPUT_NAME = 'image'
OUTPUT_NAME = 'probability'
LOGIT_NAME = 'logit'
"""The second output, the logit of which ``probability`` is the sigmoid: windows
of a tiled image are averaged in logits, as mmseg's slide inference does."""
FORMAT_KEY = 'mmseg_serank.format'
FORMAT = 'serankdet-probability/2'
"""Metadata that marks a file written by :func:`export_onnx` (checked by the runners).
Format 1 files lack the ``logit`` output."""
IDENTITY_KEYS = ('mmseg_serank.model', 'mmseg_serank.network_in_channels', 'mmseg_serank.grey',
                 'mmseg_serank.mean', 'mmseg_serank.std', 'mmseg_serank.flip_channels',
                 'mmseg_serank.threshold', 'mmseg_serank.config_digest')
"""Metadata (JSON values) naming the model a file was exported from: network
types, the network's input channels and grey flag, the preprocessing folded into
the graph, the head's threshold and a digest of the network's config
(:func:`model_identity`). The runners refuse a file of another model than the
config builds; files exported before these keys existed are accepted."""
QUANTIZATION_KEY = 'mmseg_serank.quantization'
"""Metadata of a quantised file: the settings it was calibrated with (JSON)."""
# Settings of the model config that do not change the exported network.
_NOT_NETWORK = {
    '': ('train_cfg', 'test_cfg', 'init_cfg', 'pretrained', 'auxiliary_head'),
    'backbone': ('init_cfg', 'pretrained', 'deploy'),
    'neck': ('init_cfg', ),
    'decode_head': ('init_cfg', 'loss_decode', 'threshold', 'deploy', 'sampler',
                    'ignore_index'),
    'data_preprocessor': ('size', 'size_divisor', 'pad_val', 'seg_pad_val', 'test_cfg'),
}
TRACE_SIZE = (64, 96)
CHECK_SIZES: Tuple[Tuple[int, int, int], ...] = ((1, 64, 96), (1, 33, 47), (2, 200, 136),
                                                 (1, 96, 352))
"""(batch, height, width) of the export check: the traced size, sizes that are
not multiples of 16, a batch of two, and sizes larger than the traced one."""


class ProbabilityModel(nn.Module):
    """Raw N x 3 x H x W pixels -> target probability N x 1 x H x W.

    Does what the segmentor's inference path does for one-channel heads:
    grey conversion (one-channel networks), channel flip and normalisation of
    the data preprocessor, backbone and the head's prediction map, crop of the
    backbone's bottom/right padding, sigmoid.
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
        self.grey = bool(getattr(preprocessor, 'grey', False))
        normalize = bool(getattr(preprocessor, '_enable_normalize', False))
        mean = preprocessor.mean if normalize else torch.zeros(3, 1, 1)
        std = preprocessor.std if normalize else torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.detach().clone().view(1, -1, 1, 1))
        self.register_buffer('std', std.detach().clone().view(1, -1, 1, 1))
        self.backbone = segmentor.backbone
        self.decode_head = segmentor.decode_head

    def preprocess(self, image: Tensor) -> Tensor:
        """The data preprocessor's grey conversion, channel flip and normalisation."""
        if self.grey:
            image = bgr_to_grey(image)
        if self.flip_channels:
            image = image.flip(1)
        return (image - self.mean) / self.std

    def logits(self, image: Tensor) -> Tensor:
        """The fused head map cropped to the input size, before the sigmoid."""
        height, width = image.shape[-2:]
        features = self.backbone(self.preprocess(image))
        return self.decode_head(features)[..., :height, :width]

    def forward(self, image: Tensor) -> Tensor:
        return self.logits(image).sigmoid()


class _ProbabilityAndLogit(nn.Module):
    """The exported graph: ``(probability, logit)`` of a :class:`ProbabilityModel`.

    The backbone and head are registered under the names they have in the
    ProbabilityModel, so the graph's node names (``/backbone/...``) are the same.
    Build it in eval mode: the exporter restores the wrapper's mode afterwards,
    and a training-mode wrapper would leave the shared head in training mode.
    """

    def __init__(self, model: ProbabilityModel) -> None:
        super().__init__()
        self.backbone, self.decode_head = model.backbone, model.decode_head
        self.logits_of = model.logits

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor]:
        logit = self.logits_of(image)
        return logit.sigmoid(), logit


def _part_class(cfg: Config, part: str) -> type:
    part_type = (cfg.model.get(part) or {}).get('type')
    return MODELS.get(part_type) if isinstance(part_type, str) else part_type


def _load_config(config: str, cfg_options: Optional[dict]) -> Config:
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def exportable_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """The config, or a ValueError naming it if its model cannot be exported.

    The export needs a head that predicts one map at the padded input size
    and crops it (:class:`MultiOutputHead`: SeRankDet and the IRSTD peer
    networks), which mmseg's other heads do not.
    """
    cfg = _load_config(config, cfg_options)
    head_class = _part_class(cfg, 'decode_head')
    if not (isinstance(head_class, type) and issubclass(head_class, MultiOutputHead)):
        name = getattr(head_class, '__name__', head_class)
        raise ValueError(f'{config}: model.decode_head is {name}, which the export does not '
                         'handle; it exports SeRankDet and the IRSTD peer networks '
                         '(heads derived from MultiOutputHead)')
    return cfg


def has_deploy_form(cfg: Config) -> bool:
    """Whether backbone and head fold themselves (``switch_to_deploy``)."""
    return all(hasattr(_part_class(cfg, part), 'switch_to_deploy')
               for part in ('backbone', 'decode_head'))


def deployable_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """The config, or a ValueError naming it if its model has no deploy form.

    Reparameterisation needs the backbone and decode head to fold themselves
    (``switch_to_deploy``), which SeRankDet's do and other models do not.
    """
    cfg = _load_config(config, cfg_options)
    for part in ('backbone', 'decode_head'):
        part_class = _part_class(cfg, part)
        if not hasattr(part_class, 'switch_to_deploy'):
            name = getattr(part_class, '__name__', part_class)
            raise ValueError(f'{config}: model.{part} is {name}, which has no deploy form; '
                             'reparameterisation handles SeRankDet models (backbone '
                             'SeRankDet, head SeRankDetHead)')
    return cfg


def build_segmentor(config: str, cfg_options: Optional[dict] = None,
                    deploy: bool = False) -> nn.Module:
    """The config's model in eval mode (deploy form if ``deploy``)."""
    cfg = deployable_config(config, cfg_options) if deploy else exportable_config(
        config, cfg_options)
    return _build(cfg, deploy)


def _build(cfg: Config, deploy: bool) -> nn.Module:
    if deploy:
        cfg.model.backbone.deploy = True
        cfg.model.decode_head.deploy = True
    return MODELS.build(cfg.model).eval()


def load_segmentor(config: str, checkpoint: str,
                   cfg_options: Optional[dict] = None) -> Tuple[nn.Module, nn.Module]:
    """(eval form or None, form to export) of a trained or reparameterised checkpoint.

    Models with a deploy form (SeRankDet) are exported folded; checkpoints
    written by tools/deployment/reparameterize.py (``meta.deploy``) load into the
    deploy form directly, their eval form is gone, so the first item is None.
    Models without one (the peer networks) are exported as trained: both
    items are the same model. Read and fitted (strictly) by the checkpoint
    wing, so a file gets the error and hint every tool gives for it.
    """
    cfg = exportable_config(config, cfg_options)  # before reading a large checkpoint
    state = read_checkpoint(checkpoint)
    is_deploy = isinstance(state, dict) and bool((state.get('meta') or {}).get('deploy'))
    model = _build(cfg, deploy=is_deploy)
    load_state_dict(model, check_fit(model, state, checkpoint), strict=True)
    if is_deploy:
        return None, model
    if not has_deploy_form(cfg):
        return model, model
    deployed = copy.deepcopy(model)
    deployed.backbone.switch_to_deploy()
    deployed.decode_head.switch_to_deploy()
    return model, deployed.eval()


def _type_name(part: object) -> str:
    part_type = part.get('type') if isinstance(part, dict) else None
    return getattr(part_type, '__name__', str(part_type))


def _rounded(values: Optional[Tensor]) -> Optional[List[float]]:
    return None if values is None else [float(f'{float(v):.6g}') for v in values.flatten()]


def preprocessing_identity(grey: bool, flip_channels: bool, mean: Optional[Tensor],
                           std: Optional[Tensor]) -> Dict[str, object]:
    """The preprocessing part of :data:`IDENTITY_KEYS` (mean and std None when
    the preprocessor does not normalise)."""
    if mean is not None and std is not None and bool((mean == 0).all()) \
            and bool((std == 1).all()):
        mean = std = None
    return {'mmseg_serank.grey': bool(grey), 'mmseg_serank.flip_channels': bool(flip_channels),
            'mmseg_serank.mean': _rounded(mean), 'mmseg_serank.std': _rounded(std)}


def config_identity(cfg: Config) -> Dict[str, object]:
    """The network part of :data:`IDENTITY_KEYS`, from the model config alone."""
    network = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    for part, keys in _NOT_NETWORK.items():
        section = network if not part else network.get(part)
        if isinstance(section, dict):
            for key in keys:
                section.pop(key, None)
    text = json.dumps(network, sort_keys=True,
                      default=lambda value: getattr(value, '__name__', str(value)))
    backbone = cfg.model.get('backbone') or {}
    grey = bool((cfg.model.get('data_preprocessor') or {}).get('grey', False))
    try:
        from ..thresholds import config_threshold
        threshold = config_threshold(cfg)
    except (ValueError, KeyError, AttributeError):
        threshold = None
    return {
        'mmseg_serank.model': '/'.join(_type_name(part) for part in (
            cfg.model, backbone, cfg.model.get('decode_head') or {})),
        'mmseg_serank.network_in_channels': int(backbone.get('in_channels', 1 if grey else 3)),
        'mmseg_serank.threshold': threshold,
        'mmseg_serank.config_digest': hashlib.sha256(text.encode()).hexdigest()[:32],
    }


def model_identity(cfg: Config, model: Optional[ProbabilityModel] = None) -> Dict[str, str]:
    """:data:`IDENTITY_KEYS` with JSON values for the model ``cfg`` builds; the
    preprocessing from ``model`` (what the graph holds) or else from the config's
    data preprocessor, built as the segmentor builds it."""
    if model is None:
        preprocessor = MODELS.build(copy.deepcopy(cfg.model.data_preprocessor))
        normalize = bool(getattr(preprocessor, '_enable_normalize', False))
        preprocessing = preprocessing_identity(
            getattr(preprocessor, 'grey', False),
            getattr(preprocessor, 'channel_conversion', False),
            preprocessor.mean if normalize else None, preprocessor.std if normalize else None)
    else:
        preprocessing = preprocessing_identity(model.grey, model.flip_channels, model.mean,
                                               model.std)
    identity = {**config_identity(cfg), **preprocessing}
    return {key: json.dumps(identity[key]) for key in IDENTITY_KEYS}


def export_onnx(model: ProbabilityModel, path: str, opset: int = OPSET,
                metadata: Optional[Dict[str, str]] = None) -> None:
    """Trace ``model`` into ``path`` with dynamic batch, height and width; outputs
    ``probability`` and ``logit``. ``metadata`` (e.g. :func:`model_identity`) is
    stored in the file's ``metadata_props`` beside the format key."""
    import onnx
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    sample = torch.rand(1, 3, *TRACE_SIZE) * 255
    # The tracer warns about every Python value it records; the check at
    # several sizes in write_verified_onnx is what proves none of them matters.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', 'You are using the legacy TorchScript-based ONNX',
                                DeprecationWarning)
        torch.onnx.export(_ProbabilityAndLogit(model).eval(), (sample, ), path,
                          dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME, LOGIT_NAME],
                          dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic,
                                        LOGIT_NAME: dynamic})
    proto = onnx.load(path)
    for key, value in {FORMAT_KEY: FORMAT, **(metadata or {})}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
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


def _attention_boundaries(proto) -> List[Tuple[str, str]]:
    """Graph names of each SeRank attention's input and output.

    The input is the first node's input; the output is the last value its
    (non-constant) nodes produce that a node outside the attention or the graph
    output consumes (the exporter shares constants across modules).
    """
    boundaries = []
    for stage in range(5):
        prefix = f'/backbone/rank_attentions.{stage}/'
        inside = [n for n in proto.graph.node if n.name.startswith(prefix)]
        if not inside:
            raise ValueError(f'the exported graph has no {prefix} nodes')
        consumed_outside = {name for node in proto.graph.node
                            if not node.name.startswith(prefix) for name in node.input}
        consumed_outside |= {output.name for output in proto.graph.output}
        outputs = [name for node in inside if node.op_type != 'Constant'
                   for name in node.output if name in consumed_outside]
        if not outputs:
            raise ValueError(f'cannot find the output of {prefix} in the exported graph')
        boundaries.append((inside[0].input[0], outputs[-1]))
    return boundaries


def _relative(ours: Tensor, theirs: Tensor) -> float:
    return float((ours - theirs).abs().max() / max(1.0, float(ours.abs().max())))


def teacher_forced_error(model: ProbabilityModel, image: Tensor, probability: Tensor,
                         logit: Tensor, stage_inputs: Sequence[Tensor],
                         stage_outputs: Sequence[Tensor]) -> float:
    """Largest difference of any module of ``model`` fed the other runtime's inputs.

    Each encoder block gets the other runtime's previous attention output (max
    pooled; the first block the preprocessed image) and is compared with that
    runtime's attention input; each attention gets that input, so both select
    from identical values, the decoder gets the five attention outputs and is
    compared with the logit and the probability, and the sigmoid gets the
    logit. A flip therefore cannot hide or fake a difference: every operation
    of the graph is checked at every size. Relative to max(1, max|x|) for
    features and logits; absolute for the probability.
    """
    backbone, height, width = model.backbone, image.shape[2], image.shape[3]
    with torch.no_grad():
        block_input = backbone.pad_input(model.preprocess(image))
        errors = []
        for stage, (block, attention) in enumerate(
                zip(backbone.ddc_blocks, backbone.rank_attentions)):
            if stage > 0:
                block_input = F.max_pool2d(stage_outputs[stage - 1], kernel_size=2, stride=2)
            errors.append(_relative(block(block_input), stage_inputs[stage]))
            errors.append(_relative(attention(stage_inputs[stage]), stage_outputs[stage]))
        logits = model.decode_head(tuple(stage_outputs))[..., :height, :width]
        errors.append(_relative(logits, logit))
        errors.append(float((logits.sigmoid() - probability).abs().max()))
        errors.append(float((logit.sigmoid() - probability).abs().max()))
    return max(errors)


@contextmanager
def attention_inputs(backbone: nn.Module) -> Iterator[List[Tensor]]:
    """A list that collects the input of each SeRank attention of ``backbone``
    during the ``with`` block (one per stage and forward pass)."""
    captured: List[Tensor] = []
    handles = [attention.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
               for attention in backbone.rank_attentions]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def probability_and_attention_inputs(model: ProbabilityModel,
                                     image: Tensor) -> Tuple[Tensor, List[Tensor]]:
    """``model(image)`` and the input of each SeRank attention on the way."""
    with torch.no_grad(), attention_inputs(model.backbone) as captured:
        probability = model(image)
    return probability, captured


def first_flip_stage(attentions: Sequence[nn.Module], ours: Sequence[Tensor],
                     theirs: Sequence[Tensor]) -> Optional[int]:
    """The first stage (1-based) whose attention selects other positions from
    ``theirs`` than from ``ours`` (each runtime's own stage inputs), or None."""
    for stage, (attention, mine, other) in enumerate(zip(attentions, ours, theirs)):
        k = min(attention.topk, mine.shape[2] * mine.shape[3])
        if not torch.equal(rank_positions(mine.flatten(2), k),
                           rank_positions(other.flatten(2), k)):
            return stage + 1
    return None


def _compare_end_to_end(model: ProbabilityModel, session,
                        images: Sequence[Tensor]) -> Dict[str, dict]:
    """:func:`compare_with_onnxruntime` for networks without a top-K selection:
    continuous, so the end-to-end difference checks the whole graph; the
    logits' relative difference stands in for the module-wise one."""
    results = {}
    for image in images:
        with torch.no_grad():
            expected_logit = model.logits(image)
        actual, logit = session.run(None, {INPUT_NAME: image.numpy()})
        key = 'x'.join(str(s) for s in (image.shape[0], *image.shape[2:]))
        results[key] = dict(
            difference=float(np.abs(actual - expected_logit.sigmoid().numpy()).max()),
            flip_stage=None,
            forced_error=_relative(expected_logit, torch.from_numpy(logit)))
    return results


def compare_with_onnxruntime(model: ProbabilityModel, path: str,
                             images: Sequence[Tensor]) -> Dict[str, dict]:
    """Per N x H x W: end-to-end difference, first stage with a top-K flip, and
    the largest teacher-forced difference (:func:`teacher_forced_error`).

    The top-K selection is discontinuous: where two values at a channel's K-th
    rank differ by about float rounding, another runtime's (equally valid)
    rounding can swap them and move the output far more than 1e-4. Such a
    "flip" is found by comparing the selections of both runtimes on their own
    stage inputs; the end-to-end difference then says nothing about the graph,
    the teacher-forced one still does.
    """
    import onnx
    import onnxruntime as ort
    if not hasattr(model.backbone, 'rank_attentions'):
        return _compare_end_to_end(model, ort.InferenceSession(
            path, providers=['CPUExecutionProvider']), images)
    proto = onnx.load(path)
    boundaries = _attention_boundaries(proto)
    for names in boundaries:
        for name in names:
            proto.graph.output.append(onnx.ValueInfoProto(name=name))
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=['CPUExecutionProvider'])
    attentions = list(model.backbone.rank_attentions)
    results = {}
    for image in images:
        expected, ours = probability_and_attention_inputs(model, image)
        actual, logit, *stages = session.run(None, {INPUT_NAME: image.numpy()})
        stage_inputs = [torch.from_numpy(value) for value in stages[0::2]]
        stage_outputs = [torch.from_numpy(value) for value in stages[1::2]]
        key = 'x'.join(str(s) for s in (image.shape[0], *image.shape[2:]))
        results[key] = dict(
            difference=float(np.abs(actual - expected.numpy()).max()),
            flip_stage=first_flip_stage(attentions, ours, stage_inputs),
            forced_error=teacher_forced_error(model, image, torch.from_numpy(actual),
                                              torch.from_numpy(logit),
                                              stage_inputs, stage_outputs))
    return results


def write_verified_onnx(model: ProbabilityModel, out: str, tolerance: float = 1e-4,
                        sizes: Sequence[Tuple[int, int, int]] = CHECK_SIZES,
                        opset: int = OPSET,
                        metadata: Optional[Dict[str, str]] = None) -> Dict[str, dict]:
    """Export, check with ONNX Runtime at ``sizes`` and only then move to ``out``.

    Refused (ValueError, nothing left at ``out``): a size where a module fed
    ONNX Runtime's own inputs differs by more than ``tolerance``
    (:func:`teacher_forced_error`), or where no top-K flip happened and the
    probabilities differ by more than ``tolerance``. Networks without a top-K
    selection (the peers) are continuous: there the logits, relative to
    max(1, max|logit|), must agree within ``tolerance`` (float rounding scales
    with the logits, and a large logit's probability is saturated). Returns
    :func:`compare_with_onnxruntime`'s results. ``metadata``: see :func:`export_onnx`.
    """
    check_replaceable(out)
    directory = os.path.dirname(os.path.abspath(out))
    try:
        handle, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(out) + '.',
                                       suffix='.tmp', dir=directory)
    except OSError as error:
        raise OSError(f'cannot write {out}: {error.strerror} (folder {directory})') from None
    os.close(handle)
    try:
        export_onnx(model, tmp, opset, metadata)
        results = compare_with_onnxruntime(model, tmp, check_sizes_images(sizes))
        ranked = hasattr(model.backbone, 'rank_attentions')
        failed = {size: r for size, r in results.items()
                  if not r['forced_error'] <= tolerance
                  or (ranked and r['flip_stage'] is None
                      and not r['difference'] <= tolerance)}
        if failed:
            raise ValueError(
                f'not writing {out}: the exported model differs from PyTorch by more '
                f'than {tolerance:g} (per NxHxW: max abs probability difference, first '
                f'stage with a top-K flip, max teacher-forced module difference: {results})')
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return results
