"""Python APIs of the plugin: IRSTD inference (mmseg's APIs route here for IRSTD
configs) and strict checkpoint loading."""
from ..datasets import irstd_dataset_meta
from .checkpoint import CHECKPOINT_ERRORS, CheckpointMismatchError, load_checkpoint_strict
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
    'CHECKPOINT_ERRORS', 'CheckpointMismatchError', 'IRSTDInferencer',
    'checkpoint_dataset_meta', 'inference_pipeline', 'init_irstd_model', 'irstd_dataset_meta',
    'is_irstd_config', 'load_checkpoint_strict', 'load_irstd_weights', 'prepare_irstd_data',
    'probability_and_mask'
]
