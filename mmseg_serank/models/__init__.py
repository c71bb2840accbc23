"""SeRankDet backbone, decode head, losses, IRSTD test-time augmentation."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
