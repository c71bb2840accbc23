"""ACM (Dai et al., WACV 2021): BasicIRSTD's PyTorch ``ASKCResUNet`` -> ACMResUNet + ACMHead.

The authors' original is MXNet (YimianDai/open-acm); the PyTorch reference is
BasicIRSTD's port (model/ACM/model_ACM.py), whose ``Net`` wrapper saves
``model.``-prefixed keys (stripped before :func:`convert` sees them).
"""
import importlib
import os.path as osp
import sys
import types
from typing import Any, Dict

from torch import Tensor, nn

from ..conversion import rename_keys
from ..peers import PeerSpec

__all__ = ['PEER', 'RULES', 'build_authors', 'convert']

BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
# Sequential positions of the authors' stem convs / norms -> our stem ConvModule.
STEM = {'1': ('0', 'conv'), '2': ('0', 'bn'), '4': ('1', 'conv'), '5': ('1', 'bn'),
        '7': ('2', 'conv'), '8': ('2', 'bn')}
# Positions inside an authors' AsymBiChaFuse branch -> (our branch, index, part).
FUSE = {('topdown', '1'): 'top_down.1.conv', ('topdown', '2'): 'top_down.1.bn',
        ('topdown', '4'): 'top_down.2.conv', ('topdown', '5'): 'top_down.2.bn',
        ('bottomup', '0'): 'bottom_up.0.conv', ('bottomup', '1'): 'bottom_up.0.bn',
        ('bottomup', '3'): 'bottom_up.1.conv', ('bottomup', '4'): 'bottom_up.1.bn',
        ('post', '0'): 'refine.conv', ('post', '1'): 'refine.bn'}
# deconv2 / fuse2 / uplayer2 work at 1/8 (our level 0), the *1 ones at 1/4 (level 1).
LEVEL = {'2': '0', '1': '1'}

RULES = (
    [(rf'stem\.0\.{BN}', r'backbone.input_norm.\1')]
    + [(rf'stem\.{i}\.(.+)', rf'backbone.stem.{j}.{part}.\1')
       for i, (j, part) in STEM.items()]
    # Residual blocks (conv1/bn1/conv2/bn2/downsample.{0,1}) keep their names.
    + [(rf'layer{k}\.(\d+)\.(.+)', rf'backbone.encoder.{k - 1}.\1.\2') for k in (1, 2, 3)]
    + [(rf'uplayer{k}\.(\d+)\.(.+)', rf'backbone.decoder.{LEVEL[k]}.\1.\2') for k in LEVEL]
    + [(rf'deconv{k}\.(weight|bias)', rf'backbone.upsamplers.{LEVEL[k]}.\1') for k in LEVEL]
    + [(rf'fuse{k}\.{branch}\.{i}\.(.+)', rf'backbone.fusions.{LEVEL[k]}.{ours}.\1')
       for k in LEVEL for (branch, i), ours in FUSE.items()]
    + [(r'head\.block\.0\.weight', r'decode_head.conv.conv.weight'),
       (rf'head\.block\.1\.{BN}', r'decode_head.conv.bn.\1'),
       (r'head\.block\.4\.(weight|bias)', r'decode_head.conv_seg.\1')])


def convert(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """BasicIRSTD ACM keys (``model.`` stripped) -> this project's ACM keys."""
    return rename_keys(state, RULES, 'ACM')


def build_authors(src_dir: str) -> nn.Module:
    """``ASKCResUNet()`` at its defaults from a BasicIRSTD checkout.

    Only model/ACM/{fusion,model_ACM}.py are loaded, as a private package: the
    checkout's model/__init__.py imports every other network (and the ACM
    package's ALCNet file imports torchvision.transforms); model_ACM itself
    needs only ``torchvision.models.resnet.BasicBlock``.
    """
    package_dir = osp.join(src_dir, 'model', 'ACM')
    if not osp.isfile(osp.join(package_dir, 'model_ACM.py')):
        raise FileNotFoundError(f'{src_dir}: no model/ACM/model_ACM.py; expected a '
                                'BasicIRSTD (XinyiYing/BasicIRSTD) checkout')
    name = '_basicirstd_acm'
    package = types.ModuleType(name)
    package.__path__ = [package_dir]
    sys.modules[name] = package
    try:
        module = importlib.import_module(f'{name}.model_ACM')
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(name + '.')]:
            del sys.modules[key]
    return module.ASKCResUNet()


def authors_probability(output: Any) -> Tensor:
    """ASKCResUNet's forward already ends with a sigmoid."""
    return output


PEER = PeerSpec(
    name='acm',
    title='ACM',
    config='configs/acm/acm_1xb4-1k_sirst-256x256.py',
    in_channels=1,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=16,
    requirements=['torchvision'],
)
