"""Registered in mmseg's registries on import."""
from .atomic_checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .dataset_groups_hook import CheckDatasetGroupsHook
from .irstd_visualization_hook import IRSTDVisualizationHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .resume_validation_hook import ResumeValidationHook

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend', 'CheckDatasetGroupsHook',
           'IRSTDVisualizationHook',
           'NonFiniteLossHook', 'ResumeValidationHook']
