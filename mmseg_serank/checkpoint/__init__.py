"""The checkpoint wing: every checkpoint file the package reads or writes.

* reading: :mod:`.loading` (``weights_only=True`` with mmengine's globals
  allowed, registered as mmengine's local checkpoint scheme) and
  :mod:`.fitting` (a checkpoint must fit the model exactly, or an error names
  the first problems and a hint), the one answer every tool gives for a file;
* writing: :mod:`.saving` (atomic writes of every checkpoint the package saves);
* the IRSTD authors' files: :mod:`.authors`, :mod:`.conversion` and the
  per-network converters.
"""
from .authors import AUTHORS_SUFFIXES, read_authors_state_dict, strip_wrapper_prefixes
from .conversion import check_complete, rename_keys, run_converter
from .fitting import (
    CHECKPOINT_ERRORS,
    CheckpointMismatchError,
    check_fit,
    checkpoint_error_message,
    checkpoint_state_dict,
    fit_problems,
    load_checkpoint_strict,
    unwrap_model,
)
from .loading import (
    MMENGINE_CHECKPOINT_GLOBALS,
    CheckpointFormatError,
    CheckpointSecurityError,
    load_checkpoint_safely,
    read_checkpoint,
)
from .peers import PeerSpec, get_peer, peer_names, repo_config
from .saving import NotARegularFileError, check_replaceable, save_atomically, write_atomically

__all__ = [
    'AUTHORS_SUFFIXES', 'CHECKPOINT_ERRORS', 'MMENGINE_CHECKPOINT_GLOBALS',
    'CheckpointFormatError', 'CheckpointMismatchError', 'CheckpointSecurityError',
    'NotARegularFileError', 'PeerSpec', 'check_complete', 'check_fit',
    'check_replaceable', 'checkpoint_error_message', 'checkpoint_state_dict',
    'fit_problems', 'get_peer', 'load_checkpoint_safely', 'load_checkpoint_strict',
    'peer_names', 'read_authors_state_dict', 'read_checkpoint', 'rename_keys', 'repo_config',
    'run_converter', 'save_atomically', 'strip_wrapper_prefixes', 'unwrap_model',
    'write_atomically'
]
