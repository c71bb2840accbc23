"""Python APIs of the plugin: IRSTD inference, the documented way to run the
project's configs from Python (see :mod:`.inference` for what mmseg's own
APIs do with them)."""
from ..datasets import irstd_dataset_meta
from .inference import (
    IRSTDInferencer,
    checkpoint_dataset_meta,
    inference_irstd_model,
    inference_pipeline,
    init_irstd_model,
    load_irstd_weights,
    probability_and_mask,
)

__all__ = [
    'IRSTDInferencer', 'checkpoint_dataset_meta', 'inference_irstd_model', 'inference_pipeline',
    'init_irstd_model', 'irstd_dataset_meta', 'load_irstd_weights', 'probability_and_mask'
]
