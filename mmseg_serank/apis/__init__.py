"""Python APIs of the plugin."""
from .checkpoint import CHECKPOINT_ERRORS, CheckpointMismatchError, load_checkpoint_strict

__all__ = ['CHECKPOINT_ERRORS', 'CheckpointMismatchError', 'load_checkpoint_strict']
