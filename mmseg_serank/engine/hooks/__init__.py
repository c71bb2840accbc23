"""Registered in mmseg's registries on import."""
from .atomic_checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend
from .irstd_visualization_hook import IRSTDVisualizationHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .resume_validation_hook import ResumeValidationHook

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend', 'IRSTDVisualizationHook',
           'NonFiniteLossHook', 'ResumeValidationHook']
