"""mmseg's inference APIs for IRSTD models, and what tools/infer.py shares with them.

The project's pipelines load images with ``LoadIRImageFromFile`` and masks with
``LoadIRAnnotations``. mmseg 1.2.2's inference code knows only its own loaders
(``inference_model`` strips ``LoadAnnotations`` alone and swaps the first step
for ``LoadImageFromNDArray``; ``MMSegInferencer`` looks for
``LoadImageFromFile``) and falls back to another data set's classes
(STARE or Cityscapes) when a checkpoint has no ``dataset_meta``. The functions
here build the inference pipeline of an IRSTD config (annotation loaders
dropped, the IR loader accepting paths and arrays alike) and load weights with
the IRSTD ``dataset_meta`` as the fallback; :mod:`mmseg_serank.compat` routes
``init_model``, ``inference_model`` and ``MMSegInferencer`` here for configs
that use the IR loader, so mmseg's own calls give the same answers as
``tools/infer.py``.
"""
import copy
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict
from mmseg.apis import MMSegInferencer
from mmseg.registry import INFERENCERS, MODELS
from mmseg.structures import SegDataSample
from torch import nn

from ..datasets import irstd_dataset_meta
from .checkpoint import check_fit

__all__ = [
    'IRSTDInferencer', 'checkpoint_dataset_meta', 'inference_pipeline', 'init_irstd_model',
    'is_irstd_config', 'load_irstd_weights', 'prepare_irstd_data', 'probability_and_mask'
]

#: Image loaders of the project's pipelines (replaced for inference).
IR_IMAGE_LOADERS = ('LoadIRImageFromFile', 'IRInferencerLoader')
#: Steps that need a mask and are dropped for inference.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadIRAnnotations', 'BinarizeMask',
                      'LoadDepthAnnotation')


def _step_type(step: dict) -> str:
    """Registered name of a pipeline step, without a scope prefix."""
    return str(step.get('type', '')).split('.')[-1]


def _pipelines(cfg: Union[Config, ConfigDict]) -> List[Sequence[dict]]:
    dataloader = cfg.get('test_dataloader') or {}
    dataset = dataloader.get('dataset') or {}
    return [p for p in (cfg.get('test_pipeline'), dataset.get('pipeline')) if p]


def is_irstd_config(cfg: Union[Config, ConfigDict]) -> bool:
    """Whether the config's test pipeline loads images with the IR loader."""
    return any(_step_type(step) in IR_IMAGE_LOADERS
               for pipeline in _pipelines(cfg) for step in pipeline)


def inference_pipeline(pipeline_cfg: Sequence[dict],
                       loader: str = 'LoadIRImageFromFile') -> Compose:
    """A test pipeline for images without masks: annotation steps dropped and the
    IR image loader (its settings kept) made ``loader``, which also takes arrays."""
    steps = []
    for step in pipeline_cfg:
        if _step_type(step) in ANNOTATION_LOADERS:
            continue
        step = copy.deepcopy(dict(step))
        if _step_type(step) in IR_IMAGE_LOADERS:
            step['type'] = loader
        steps.append(step)
    if not any(step['type'] == loader for step in steps):
        raise ValueError(f'the test pipeline has no image loader of {IR_IMAGE_LOADERS}: '
                         f'{[step.get("type") for step in pipeline_cfg]}')
    return Compose(steps)


def checkpoint_dataset_meta(checkpoint: Dict[str, Any]) -> dict:
    """Classes and palette saved in a checkpoint, else the IRSTD ones.

    mmengine saves ``meta.dataset_meta`` with every trained checkpoint;
    converted and reparameterised ones carry it too, older files may not.
    """
    meta = checkpoint.get('meta') or {}
    saved = meta.get('dataset_meta') or {}
    if saved.get('classes') and saved.get('palette'):
        return dict(classes=saved['classes'], palette=saved['palette'])
    return irstd_dataset_meta()


def load_irstd_weights(model: nn.Module, checkpoint: Dict[str, Any],
                       filename: str = 'the checkpoint') -> None:
    """Load a checkpoint dict (or a bare state dict) into ``model`` strictly and
    set ``model.dataset_meta``.

    The one place where every inference path (``tools/infer.py``,
    ``init_model``, the inferencers) puts weights into an IRSTD model. A
    checkpoint that does not fit raises :class:`CheckpointMismatchError`
    naming the first problems, instead of leaving random weights behind a
    "size mismatch" warning as mmengine's loader does.
    """
    load_state_dict(model, check_fit(model, checkpoint, filename), strict=True)
    model.dataset_meta = checkpoint_dataset_meta(checkpoint)


def init_irstd_model(config: Union[str, Path, Config],
                     checkpoint: Optional[str] = None,
                     device: str = 'cuda:0',
                     cfg_options: Optional[dict] = None) -> nn.Module:
    """``mmseg.apis.init_model`` for IRSTD configs: same model, IRSTD meta fallback."""
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file name or a Config, got {type(config)}')
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    if config.model.type == 'EncoderDecoder' and 'init_cfg' in config.model.backbone:
        config.model.backbone.init_cfg = None  # no pretrained download for inference
    config.model.pretrained = None
    config.model.train_cfg = None
    init_default_scope(config.get('default_scope', 'mmseg'))
    model = MODELS.build(config.model)
    if checkpoint is None:
        model.dataset_meta = irstd_dataset_meta()
    else:
        load_irstd_weights(model, _load_checkpoint(str(checkpoint), map_location='cpu'),
                           str(checkpoint))
    model.cfg = config
    model.to(device)
    model.eval()
    return model


def prepare_irstd_data(imgs: Union[str, np.ndarray, Sequence[Union[str, np.ndarray]]],
                       model: nn.Module) -> Tuple[dict, bool]:
    """``mmseg.apis.inference_model``'s data preparation for IRSTD configs.

    Paths and arrays go through the same IR loader (an array is taken as
    ``cv2.imread(path, cv2.IMREAD_UNCHANGED)`` returns its file: grey, BGR or
    BGRA, any bit depth), and ``model.cfg`` is left unchanged.
    """
    is_batch = isinstance(imgs, (list, tuple))
    pipeline = inference_pipeline(model.cfg.test_pipeline)
    data = defaultdict(list)
    for img in (imgs if is_batch else [imgs]):
        sample = pipeline(dict(img=img) if isinstance(img, np.ndarray)
                          else dict(img_path=str(img)))
        data['inputs'].append(sample['inputs'])
        data['data_samples'].append(sample['data_samples'])
    return data, is_batch


def probability_and_mask(result: SegDataSample) -> Tuple[np.ndarray, np.ndarray]:
    """Target probability (float32) and predicted mask (bool), both HxW, of one
    segmentor result: mmseg's ``seg_logits`` already holds the sigmoid for
    one-channel heads (two channels: softmax of the target channel), and
    ``pred_sem_seg`` is the head's thresholded (or arg-max) prediction."""
    scores = result.seg_logits.data.detach().float().cpu()
    if scores.shape[0] == 1:
        probability = scores[0]
    elif scores.shape[0] == 2:
        probability = torch.softmax(scores, dim=0)[1]
    else:
        raise ValueError(f'expected one- or two-channel seg_logits, got {tuple(scores.shape)}')
    mask = result.pred_sem_seg.data[0].detach().cpu() > 0
    return probability.numpy(), mask.numpy()


@INFERENCERS.register_module()
class IRSTDInferencer(MMSegInferencer):
    """``MMSegInferencer`` for IRSTD configs: the IR loader on paths and arrays,
    no mask needed, IRSTD classes when the checkpoint carries none.

    ``MMSegInferencer(model=CONFIG, weights=CKPT)`` behaves the same for IRSTD
    configs once :mod:`mmseg_serank` is imported (see :mod:`mmseg_serank.compat`).
    """

    def _init_pipeline(self, cfg: Config) -> Compose:
        return inference_pipeline(cfg.test_dataloader.dataset.pipeline,
                                  loader='IRInferencerLoader')

    def _load_weights_to_model(self, model: nn.Module, checkpoint: Optional[dict],
                               cfg: Optional[Config]) -> None:
        if checkpoint is None:
            warnings.warn('no weights given: the inference results come from a '
                          'randomly initialised model', stacklevel=2)
            model.dataset_meta = irstd_dataset_meta()
        else:
            load_irstd_weights(model, checkpoint)
