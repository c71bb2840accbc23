"""What the tools need to know of each IRSTD peer network.

Each network has a module in :mod:`mmseg_serank.checkpoint.converters` that
defines ``PEER``: its key mapping (used by ``tools/model_converters``) and how
to build and read the authors' own model from a checkout of their repository
(used only by ``tools/analysis_tools/verify_peer_parity.py``, never at run time).
"""
import importlib
import os.path as osp
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional

from torch import Tensor, nn

__all__ = ['PeerSpec', 'get_peer', 'import_from_checkout', 'peer_names', 'repo_config']

PEER_NAMES = ('dnanet', 'mshnet', 'acm', 'rdian', 'uiunet', 'sctransnet')
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


@dataclass(frozen=True)
class PeerSpec:
    """One peer network.

    Attributes:
        name: Converter name (``tools/model_converters/<name>2mmseg.py``).
        title: The network's name as its paper writes it.
        config: Repository-relative config whose model the authors' default
            network is (the weights of the authors' code fill it).
        in_channels: Input channels of the authors' default network.
        convert: Authors' state dict (wrapper prefixes removed) -> ours.
        build_authors: Builds the authors' default network from a checkout
            of their repository (imports their code; parity checks only).
        authors_probability: The authors' eval-mode output -> the probability
            map (N, 1, H, W) their test script thresholds.
        size_divisor: The authors' network needs H and W divisible by it.
        cfg_options_hint: ``--cfg-options`` a user passes for a variant
            checkpoint (e.g. BasicIRSTD's one-channel port), shown in --help.
        requirements: Packages the authors' code imports beyond torch.
    """
    name: str
    title: str
    config: str
    in_channels: int
    convert: Callable[[Dict[str, Tensor]], Dict[str, Tensor]]
    build_authors: Callable[[str], nn.Module]
    authors_probability: Callable[[Any], Tensor]
    size_divisor: int = 16
    cfg_options_hint: Optional[str] = None
    requirements: List[str] = field(default_factory=list)


def import_from_checkout(src_dir: str, module: str) -> ModuleType:
    """Import ``module`` from a checkout of the authors' repository.

    Several authors call their package ``model``; one cached from another
    checkout is dropped first, so the import reads this checkout. ``src_dir``
    is on ``sys.path`` only during the import.
    """
    top = module.split('.')[0]
    for name in [n for n in sys.modules if n == top or n.startswith(top + '.')]:
        del sys.modules[name]
    sys.path.insert(0, src_dir)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(src_dir)


def peer_names() -> List[str]:
    return list(PEER_NAMES)


def get_peer(name: str) -> PeerSpec:
    """The spec of peer ``name``; a ValueError lists the known names."""
    if name not in PEER_NAMES:
        raise ValueError(f'unknown network {name!r}; known: {", ".join(PEER_NAMES)}')
    module = importlib.import_module(f'{__package__}.converters.{name}')
    return module.PEER


def repo_config(relative: str) -> str:
    """Absolute path of a shipped config (a checkout, or an install's .mim)."""
    for root in (osp.join(osp.dirname(PACKAGE_DIR)), osp.join(PACKAGE_DIR, '.mim')):
        path = osp.join(root, relative)
        if osp.isfile(path):
            return path
    return osp.join(osp.dirname(PACKAGE_DIR), relative)
