"""Decode heads of mmseg_serank."""
from .serankdet_head import SeRankDetHead

__all__ = ['SeRankDetHead']
from .acm_head import *  # noqa: F401,F403
from .dnanet_head import *  # noqa: F401,F403
from .mshnet_head import *  # noqa: F401,F403
from .rdian_head import *  # noqa: F401,F403
from .sctransnet_head import *  # noqa: F401,F403
from .uiunet_head import *  # noqa: F401,F403
