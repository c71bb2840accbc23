"""UIU-Net (danfenghong/IEEE_TIP_UIU-Net, ``UIUNET(3, 1)``) -> UIUNet + UIUNetHead.

The authors save a bare ``net.state_dict()``; BasicIRSTD's one-channel port
(``model/UIUNet``, ``in_ch=1``) has the same keys under its ``model.`` wrapper
(removed before :func:`convert`) and loads with ``cfg_options_hint``.
"""
import re
from typing import Any, Dict, List

from torch import Tensor, nn

from ..conversion import KeyRule, rename_keys
from ..peers import PeerSpec, import_from_checkout

TITLE = 'UIU-Net'
CONV_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'

# Authors' stage -> (ours, depth of its RSU-L; 0 for RSU-4F).
STAGES = {
    **{f'stage{i + 1}': (f'backbone.encoder_stages.{i}', depth)
       for i, depth in enumerate((7, 6, 5, 4, 0, 0))},
    **{f'stage{i + 1}d': (f'backbone.decoder_stages.{i}', depth)
       for i, depth in enumerate((7, 6, 5, 4, 0))},
}


def _block_rules(authors: str, ours: str, depth: int) -> List[KeyRule]:
    """REBNCONV layers of one RSU: conv_s1 / bn_s1 become ConvModule's conv / bn."""
    levels = depth - 1 if depth else 3
    names = {'rebnconvin': 'in_conv', f'rebnconv{levels + 1}': 'bottom'}
    for j in range(1, levels + 1):
        names[f'rebnconv{j}'] = f'encoder.{j - 1}'
        names[f'rebnconv{j}d'] = f'decoder.{j - 1}'
    rules: List[KeyRule] = []
    for theirs, mine in names.items():
        rules.append((rf'{authors}\.{theirs}\.conv_s1\.(weight|bias)', rf'{ours}.{mine}.conv.\1'))
        rules.append((rf'{authors}\.{theirs}\.bn_s1\.{CONV_BN}', rf'{ours}.{mine}.bn.\1'))
    return rules


# AsymBiChaFuseReduce Sequential indices -> InteractiveCrossAttention modules.
FUSION_LAYERS = {
    'feature_high.0': 'high_proj.conv', 'feature_high.1': 'high_proj.bn',
    'topdown.1': 'channel_gate.1.conv', 'topdown.2': 'channel_gate.1.bn',
    'topdown.4': 'channel_gate.2.conv', 'topdown.5': 'channel_gate.2.bn',
    'bottomup.0': 'spatial_reduce.conv', 'bottomup.1': 'spatial_reduce.bn',
    'bottomup.3.conv1': 'spatial_conv',
    'post.0': 'post.conv', 'post.1': 'post.bn',
}

RULES: List[KeyRule] = [
    rule for authors, (ours, depth) in STAGES.items()
    for rule in _block_rules(authors, ours, depth)
] + [
    # fuse2..fuse5 serve decoder levels 2..5: fusions.0..3.
    (rf'fuse{level}\.{re.escape(theirs)}\.{CONV_BN}', rf'backbone.fusions.{level - 2}.{mine}.\1')
    for level in range(2, 6) for theirs, mine in FUSION_LAYERS.items()
] + [
    (rf'side{k}\.(weight|bias)', rf'decode_head.side_convs.{k - 1}.\1') for k in range(1, 7)
] + [
    (r'outconv\.(weight|bias)', r'decode_head.fuse_conv.\1'),
]


def convert(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The authors' UIUNET state dict (any in_ch) as ours; unknown keys are named."""
    return rename_keys(state, RULES, TITLE)


def build_authors(src_dir: str) -> nn.Module:
    """``UIUNET(3, 1)`` from a checkout of the authors' repository."""
    return import_from_checkout(src_dir, 'model').UIUNET(3, 1)


def authors_probability(output: Any) -> Tensor:
    """sigmoid(d0), the first of the seven maps (before test.py's normPRED)."""
    return output[0]


PEER = PeerSpec(
    name='uiunet',
    title=TITLE,
    config='configs/uiunet/uiunet_1xb4-1k_sirst-256x256.py',
    in_channels=3,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=1,
    cfg_options_hint=(
        'model.backbone.in_channels=1 model.data_preprocessor.type=IRSTDDataPreProcessor '
        'model.data_preprocessor.grey=True model.data_preprocessor.bgr_to_rgb=False '
        'model.data_preprocessor.mean=[101.06385040283203] '
        'model.data_preprocessor.std=[34.619606018066406]'),
)
