"""MSHNet (Lliu666/MSHNet): the authors' keys -> ours, and their model for parity checks."""
from typing import Any, Dict, List

from torch import Tensor, nn

from ..conversion import KeyRule, rename_keys
from ..peers import PeerSpec, import_from_checkout

__all__ = ['PEER', 'RULES', 'convert']

# Authors' stages in our order: encoders.0-3 then the middle stage as encoders.4.
_ENCODERS = {'encoder_0': 0, 'encoder_1': 1, 'encoder_2': 2, 'encoder_3': 3, 'middle_layer': 4}
# Within block k of a stage (the authors' ResNet-with-CBAM block): their conv/bn
# pairs become ConvModules, their CBAM MLP and 7x7 conv our gates. Group 1 is k.
_IN_BLOCK = [
    (r'conv1\.(weight|bias)', r'conv1.conv.\2'),
    (r'bn1\.(.+)', r'conv1.bn.\2'),
    (r'conv2\.(weight|bias)', r'conv2.conv.\2'),
    (r'bn2\.(.+)', r'conv2.bn.\2'),
    (r'shortcut\.0\.(weight|bias)', r'shortcut.conv.\2'),
    (r'shortcut\.1\.(.+)', r'shortcut.bn.\2'),
    (r'ca\.fc1\.weight', 'channel_gate.squeeze.weight'),
    (r'ca\.fc2\.weight', 'channel_gate.excite.weight'),
    (r'sa\.conv1\.weight', 'spatial_gate.conv.weight'),
]


def _stage_rules(authors: str, ours: str) -> List[KeyRule]:
    """Rules of one stage: the authors' ``<authors>.k.*`` -> ``<ours>.k.*``."""
    return [(rf'{authors}\.(\d+)\.{inner}', rf'{ours}.\1.{target}')
            for inner, target in _IN_BLOCK]


RULES = [rule for name, index in _ENCODERS.items()
         for rule in _stage_rules(name, f'backbone.encoders.{index}')]
RULES += [rule for index in range(4)
          for rule in _stage_rules(f'decoder_{index}', f'backbone.decoders.{index}')]
RULES += [
    (r'conv_init\.(weight|bias)', r'backbone.stem.\1'),
    (r'output_([0-3])\.(weight|bias)', r'decode_head.scale_convs.\1.\2'),
    (r'final\.(weight|bias)', r'decode_head.fusion_conv.\1'),
]


def convert(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The authors' MSHNet state dict (prefixes stripped) -> our segmentor's."""
    return rename_keys(state, RULES, 'MSHNet')


def build_authors(src_dir: str) -> nn.Module:
    """The authors' ``MSHNet(3)`` whose forward takes only the image (warm_flag=True)."""
    AuthorsMSHNet = import_from_checkout(src_dir, 'model.MSHNet').MSHNet  # noqa: N806

    class Tested(AuthorsMSHNet):
        """Their test setting: warm_epoch=-1, so every call has warm_flag=True."""

        def forward(self, x: Tensor) -> Any:
            return super().forward(x, True)

    return Tested(3)


def authors_probability(output: Any) -> Tensor:
    """sigmoid of ``final``, the second entry of the authors' (masks, output)."""
    return output[1].sigmoid()


PEER = PeerSpec(
    name='mshnet',
    title='MSHNet',
    config='configs/mshnet/mshnet_1xb4-1k_sirst-256x256.py',
    in_channels=3,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=16,
)
