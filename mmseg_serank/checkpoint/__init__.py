"""Reading the IRSTD authors' checkpoint files and converting them to ours."""
from .authors import AUTHORS_SUFFIXES, read_authors_state_dict, strip_wrapper_prefixes
from .conversion import check_complete, rename_keys, run_converter
from .peers import PeerSpec, get_peer, peer_names, repo_config

__all__ = [
    'AUTHORS_SUFFIXES', 'PeerSpec', 'check_complete', 'get_peer', 'peer_names',
    'read_authors_state_dict', 'rename_keys', 'repo_config', 'run_converter',
    'strip_wrapper_prefixes'
]
