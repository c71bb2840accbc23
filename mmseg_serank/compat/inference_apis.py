"""Route mmseg 1.2.2's inference APIs through :mod:`mmseg_serank.apis` for IRSTD configs.

mmseg's ``inference_model`` strips only ``LoadAnnotations`` from the test
pipeline (``KeyError: 'seg_map_path'`` with ``LoadIRAnnotations``) and turns
the first step into ``LoadImageFromNDArray`` for arrays, in place in
``model.cfg`` (a later call with a path then fails); ``MMSegInferencer``
needs a ``LoadImageFromFile`` step; ``init_model`` and ``MMSegInferencer``
label a checkpoint without ``dataset_meta`` with STARE or Cityscapes classes.
For configs whose test pipeline uses the IR image loader these calls go to
:mod:`mmseg_serank.apis.inference`; every other config is left to mmseg.
"""
import functools
from typing import Callable

_PATCHED_FLAG = '_mmseg_serank_inference_patch'


def _irstd_api():
    from ..apis import inference  # late: the package imports this module first
    return inference


def _mark(function: Callable) -> Callable:
    setattr(function, _PATCHED_FLAG, True)
    return function


def _patched_init_model(original: Callable) -> Callable:
    @functools.wraps(original)
    def init_model(config, checkpoint=None, device='cuda:0', cfg_options=None):
        from mmengine.config import Config
        if isinstance(config, str) or hasattr(config, '__fspath__'):
            config = Config.fromfile(str(config))
        if isinstance(config, Config) and _irstd_api().is_irstd_config(config):
            return _irstd_api().init_irstd_model(config, checkpoint, device, cfg_options)
        return original(config, checkpoint, device, cfg_options)
    return _mark(init_model)


def _patched_prepare_data(original: Callable) -> Callable:
    @functools.wraps(original)
    def prepare_data(imgs, model):
        if _irstd_api().is_irstd_config(model.cfg):
            return _irstd_api().prepare_irstd_data(imgs, model)
        return original(imgs, model)
    return _mark(prepare_data)


def _patched_method(original: Callable, name: str) -> Callable:
    @functools.wraps(original)
    def method(self, *args):
        cfg = args[-1]
        if cfg is not None and _irstd_api().is_irstd_config(cfg):
            return getattr(_irstd_api().IRSTDInferencer, name)(self, *args)
        return original(self, *args)
    return _mark(method)


def patch_inference_apis() -> None:
    """Install the routing above; idempotent."""
    import mmseg.apis
    import mmseg.apis.inference as inference
    from mmseg.apis.mmseg_inferencer import MMSegInferencer
    if getattr(inference.init_model, _PATCHED_FLAG, False):
        return
    init_model = _patched_init_model(inference.init_model)
    inference.init_model = init_model
    mmseg.apis.init_model = init_model
    inference._preprare_data = _patched_prepare_data(inference._preprare_data)
    for name in ('_init_pipeline', '_load_weights_to_model'):
        setattr(MMSegInferencer, name, _patched_method(getattr(MMSegInferencer, name), name))
