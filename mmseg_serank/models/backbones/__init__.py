"""Backbones of mmseg_serank."""
from .serankdet import SeRankDet

__all__ = ['SeRankDet']
from .acm import *  # noqa: F401,F403
from .dnanet import *  # noqa: F401,F403
from .mshnet import *  # noqa: F401,F403
from .rdian import *  # noqa: F401,F403
from .sctransnet import *  # noqa: F401,F403
from .uiunet import *  # noqa: F401,F403
