"""Inference on IRSTD models (mmseg's APIs route here for IRSTD configs)."""
from ..datasets import irstd_dataset_meta
from .inference import (
    IRSTDInferencer,
    checkpoint_dataset_meta,
    inference_pipeline,
    init_irstd_model,
    is_irstd_config,
    load_irstd_weights,
    prepare_irstd_data,
    probability_and_mask,
)

__all__ = [
    'IRSTDInferencer', 'checkpoint_dataset_meta', 'inference_pipeline', 'init_irstd_model',
    'irstd_dataset_meta', 'is_irstd_config', 'load_irstd_weights', 'prepare_irstd_data',
    'probability_and_mask'
]
