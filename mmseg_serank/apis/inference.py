"""The plugin's inference APIs for IRSTD configs, and what tools/infer.py shares with them.

mmseg 1.2.2's ``inference_model`` serves the project's configs unchanged on
image files of one size (the IR transforms skip missing masks), but
``init_model`` loads non-strictly and labels a checkpoint without
``dataset_meta`` with STARE or Cityscapes classes, ``inference_model`` swaps
the IR loader for ``LoadImageFromNDArray`` on arrays (no bit-depth or channel
handling, and in place in ``model.cfg``) and stacks a list into one batch
(images of different sizes fail), and ``MMSegInferencer`` needs a
``LoadImageFromFile`` step and draws from a second OpenCV decoding of each
file (``None`` for a float TIFF). The documented way is therefore
:func:`init_irstd_model` / :func:`inference_irstd_model` and
:class:`IRSTDInferencer` (registered in mmseg's ``INFERENCERS``): the IR
loader on paths and arrays alike, strict loading as in ``tools/test.py``, the
IRSTD classes when a checkpoint carries none, any mix of image sizes.
"""
import copy
import os
import os.path as osp
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmseg.apis import MMSegInferencer
from mmseg.registry import INFERENCERS, MODELS
from mmseg.structures import SegDataSample
from torch import nn

from ..checkpoint import check_fit, read_checkpoint
from ..datasets import irstd_dataset_meta
from ..datasets.transforms.loading import LoadIRImageFromFile

__all__ = [
    'IRSTDInferencer', 'checkpoint_dataset_meta', 'inference_irstd_model', 'inference_pipeline',
    'init_irstd_model', 'load_irstd_weights', 'probability_and_mask'
]

ImageInput = Union[str, os.PathLike, np.ndarray]

#: Image loaders of the project's pipelines (replaced for inference).
IR_IMAGE_LOADERS = ('LoadIRImageFromFile', 'IRInferencerLoader')
#: Steps that need a mask and are dropped for inference.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadIRAnnotations', 'BinarizeMask',
                      'LoadDepthAnnotation')


def _step_type(step: dict) -> str:
    """Registered name of a pipeline step, without a scope prefix."""
    return str(step.get('type', '')).split('.')[-1]


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
    :func:`init_irstd_model`, :class:`IRSTDInferencer`) puts weights into an
    IRSTD model. A
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
    """``mmseg.apis.init_model`` for IRSTD configs: the same model, loaded strictly
    (a misfit checkpoint is a :class:`CheckpointMismatchError` with its hint, as
    in ``tools/test.py``), with the IRSTD classes when the checkpoint has none."""
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
        load_irstd_weights(model, read_checkpoint(str(checkpoint)), str(checkpoint))
    model.cfg = config
    model.to(device)
    model.eval()
    return model


def inference_irstd_model(model: nn.Module,
                          imgs: Union[ImageInput, Sequence[ImageInput]]
                          ) -> Union[SegDataSample, List[SegDataSample]]:
    """``mmseg.apis.inference_model`` for IRSTD configs.

    Paths and arrays go through the config's IR loader (an array is taken as
    ``cv2.imread(path, cv2.IMREAD_UNCHANGED)`` returns its file: grey, BGR or
    BGRA, any bit depth), one image at a time, so a list may mix sizes
    (mmseg stacks a list into one batch); ``model.cfg`` is left unchanged.

    Returns:
        One result for one image, a list of results for a list or tuple.
    """
    is_batch = isinstance(imgs, (list, tuple))
    pipeline = inference_pipeline(model.cfg.test_dataloader.dataset.pipeline)
    results = []
    with torch.no_grad():
        for img in (imgs if is_batch else [imgs]):
            sample = pipeline(dict(img=img) if isinstance(img, np.ndarray)
                              else dict(img_path=os.fspath(img)))
            results.extend(model.test_step(dict(inputs=[sample['inputs']],
                                                data_samples=[sample['data_samples']])))
    return results if is_batch else results[0]


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


class ImageKeepingPipeline(Compose):
    """A pipeline that also leaves the image its IR loader decoded in each
    sample's metainfo (``ir_image``, BGR), so the inferencer draws on the
    image the model saw instead of decoding the file a second time."""

    def __call__(self, data: Any) -> Optional[dict]:
        image = None
        for transform in self.transforms:
            data = transform(data)
            if data is None:
                return None
            if image is None and isinstance(transform, LoadIRImageFromFile):
                image = data['img']
        data['data_samples'].set_metainfo(dict(ir_image=image))
        return data


def displayable_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 of the IR loader's BGR image (float32 with ``to_float32``)."""
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[..., ::-1])


@INFERENCERS.register_module()
class IRSTDInferencer(MMSegInferencer):
    """``MMSegInferencer`` for IRSTD configs: the IR loader on paths and arrays,
    no mask needed, strict loading, IRSTD classes when the checkpoint carries
    none, and pictures drawn on the image the IR loader decoded (any format
    it reads, e.g. 16-bit PNG or float TIFF).
    """

    def _init_pipeline(self, cfg: Config) -> Compose:
        steps = inference_pipeline(cfg.test_dataloader.dataset.pipeline,
                                   loader='IRInferencerLoader').transforms
        return ImageKeepingPipeline(steps)

    def _load_weights_to_model(self, model: nn.Module, checkpoint: Optional[dict],
                               cfg: Optional[Config]) -> None:
        if checkpoint is None:
            warnings.warn('no weights given: the inference results come from a '
                          'randomly initialised model', stacklevel=2)
            model.dataset_meta = irstd_dataset_meta()
        else:
            load_irstd_weights(model, checkpoint)

    def visualize(self, inputs: list, preds: List[SegDataSample], return_vis: bool = False,
                  show: bool = False, wait_time: int = 0, img_out_dir: str = '',
                  opacity: float = 0.8,
                  with_labels: Optional[bool] = True) -> Optional[List[np.ndarray]]:
        """Draw each prediction on its ``ir_image``; files are named as mmseg
        names them (the input's file name, or a counter for arrays)."""
        if not (show or img_out_dir or return_vis):
            return None
        self.visualizer.set_dataset_meta(**self.model.dataset_meta)
        self.visualizer.alpha = opacity
        drawings = []
        for item, pred in zip(inputs, preds):
            name = (osp.basename(os.fspath(item)) if isinstance(item, (str, os.PathLike))
                    else f'{self.num_visualized_imgs:08d}_vis.jpg')
            self.visualizer.add_datasample(
                name, displayable_rgb(pred.ir_image), pred, show=show, wait_time=wait_time,
                draw_gt=False, draw_pred=True,
                out_file=osp.join(img_out_dir, name) if img_out_dir else None,
                with_labels=with_labels)
            if return_vis:
                drawings.append(self.visualizer.get_image())
            self.num_visualized_imgs += 1
        return drawings if return_vis else None

    def postprocess(self, preds: List[SegDataSample], visualization: List[np.ndarray],
                    return_datasample: bool = False, pred_out_dir: str = '') -> dict:
        """mmseg's results, without the decoded images kept for drawing."""
        for pred in preds:
            pred.pop('ir_image', None)
        return super().postprocess(preds, visualization, return_datasample, pred_out_dir)
