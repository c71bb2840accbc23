"""SCTransNet (Yuan et al., TGRS 2024): the authors' keys -> this project's.

The authors' code (github.com/xdFai/SCTransNet, BasicIRSTD-style training)
saves ``{'epoch', 'state_dict', 'total_loss'}`` with ``model.``-prefixed keys
(its ``Net`` wrapper); :func:`read_authors_state_dict` strips the prefix.
Their per-level modules are numbered from 1 (``embeddings_1``, ``mhead1``,
``ffn1``, ``up_decoder1``, ``gt_conv2`` ...) and ours are lists from 0, so
the rules are written out per level.
"""
import importlib.util
import os.path as osp
from typing import Dict, List

from torch import Tensor, nn

from ..conversion import KeyRule, rename_keys
from ..peers import PeerSpec

__all__ = ['PEER', 'RULES', 'convert']

TITLE = 'SCTransNet'
NUM_LEVELS = 4
# One residual block's layers: the authors' name -> our ConvModule part.
_RESIDUAL_PARTS = (('conv1', 'conv1.conv'), ('bn1', 'conv1.bn'), ('conv2', 'conv2.conv'),
                   ('bn2', 'conv2.bn'), (r'shortcut\.0', 'shortcut.conv'),
                   (r'shortcut\.1', 'shortcut.bn'))


def _rules() -> List[KeyRule]:
    rules: List[KeyRule] = []
    # Encoder: ``inc`` and ``down_encoder1..4`` each hold one residual block.
    stages = ['inc'] + [f'down_encoder{n}' for n in range(1, NUM_LEVELS + 1)]
    for index, stage in enumerate(stages):
        for theirs, ours in _RESIDUAL_PARTS:
            rules.append((rf'{stage}\.0\.{theirs}\.(\w+)',
                          rf'backbone.encoder_blocks.{index}.{ours}.\1'))
    layer = r'mtc\.encoder\.layer\.(\d+)'
    ours_layer = r'backbone.layers.\1'
    for level in range(1, NUM_LEVELS + 1):
        i = level - 1
        rules += [
            (rf'mtc\.embeddings_{level}\.position_embeddings',
             f'backbone.patch_embeds.{i}.pos_embed'),
            (rf'mtc\.embeddings_{level}\.patch_embeddings\.(\w+)',
             rf'backbone.patch_embeds.{i}.proj.\1'),
            (rf'{layer}\.attn_norm{level}\.body\.(\w+)', rf'{ours_layer}.attn_norms.{i}.\2'),
            (rf'{layer}\.ffn_norm{level}\.body\.(\w+)', rf'{ours_layer}.ffn_norms.{i}.\2'),
            (rf'{layer}\.channel_attn\.mhead{level}\.weight',
             rf'{ours_layer}.attention.query_projs.{i}.0.weight'),
            (rf'{layer}\.channel_attn\.q{level}\.weight',
             rf'{ours_layer}.attention.query_projs.{i}.1.weight'),
            (rf'{layer}\.channel_attn\.project_out{level}\.weight',
             rf'{ours_layer}.attention.out_projs.{i}.weight'),
            (rf'{layer}\.ffn{level}\.project_in\.weight', rf'{ours_layer}.ffns.{i}.expand.weight'),
            (rf'{layer}\.ffn{level}\.dwconv3x3\.weight',
             rf'{ours_layer}.ffns.{i}.dw3.conv.weight'),
            (rf'{layer}\.ffn{level}\.dwconv5x5\.weight',
             rf'{ours_layer}.ffns.{i}.dw5.conv.weight'),
            (rf'{layer}\.ffn{level}\.project_out\.weight', rf'{ours_layer}.ffns.{i}.reduce.weight'),
            (rf'{layer}\.ffn{level}\.eca\.conv\.0\.weight',
             rf'{ours_layer}.ffns.{i}.eca.conv.weight'),
            (rf'mtc\.encoder\.encoder_norm{level}\.body\.(\w+)', rf'backbone.out_norms.{i}.\1'),
            (rf'mtc\.reconstruct_{level}\.conv\.(\w+)', rf'backbone.reconstructs.{i}.conv.\1'),
            (rf'mtc\.reconstruct_{level}\.norm\.(\w+)', rf'backbone.reconstructs.{i}.bn.\1'),
            # Decoder stage ``up_decoder{level}`` ends at skip level ``level - 1``.
            (rf'up_decoder{level}\.coatt\.mlp_x\.1\.(\w+)',
             rf'decode_head.up_blocks.{i}.gate.skip_fc.\1'),
            (rf'up_decoder{level}\.coatt\.mlp_g\.1\.(\w+)',
             rf'decode_head.up_blocks.{i}.gate.up_fc.\1'),
            (rf'up_decoder{level}\.nConvs\.(\d)\.conv\.(\w+)',
             rf'decode_head.up_blocks.{i}.convs.\1.conv.\2'),
            (rf'up_decoder{level}\.nConvs\.(\d)\.norm\.(\w+)',
             rf'decode_head.up_blocks.{i}.convs.\1.bn.\2'),
            # ``gt_conv2..5`` sit on d2, d3, d4 and the bottleneck.
            (rf'gt_conv{level + 1}\.0\.(\w+)', rf'decode_head.side_convs.{i}.\1'),
        ]
    rules += [
        (rf'{layer}\.attn_norm\.body\.(\w+)', rf'{ours_layer}.kv_norm.\2'),
        (rf'{layer}\.channel_attn\.mheadk\.weight', rf'{ours_layer}.attention.key_proj.0.weight'),
        (rf'{layer}\.channel_attn\.k\.weight', rf'{ours_layer}.attention.key_proj.1.weight'),
        (rf'{layer}\.channel_attn\.mheadv\.weight',
         rf'{ours_layer}.attention.value_proj.0.weight'),
        (rf'{layer}\.channel_attn\.v\.weight', rf'{ours_layer}.attention.value_proj.1.weight'),
        (rf'{layer}\.channel_attn\.(q\d_attn\d)', rf'{ours_layer}.attention.unused_scales.\2'),
        (r'outc\.(\w+)', r'decode_head.conv_seg.\1'),
        (r'outconv\.(\w+)', r'decode_head.fuse_conv.\1'),
    ]
    return rules


RULES: List[KeyRule] = _rules()


def convert(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The authors' SCTransNet state dict (wrapper prefixes removed) -> ours."""
    return rename_keys(state, RULES, TITLE)


def _load_file(path: str, name: str):
    """Import one source file of the checkout under a private module name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_authors(src_dir: str) -> nn.Module:
    """The authors' ``SCTransNet(get_SCTrans_config(), n_channels=1, img_size=256,
    mode='test', deepsuper=True)`` (needs einops and ml_collections; their model
    file also imports thop, unused)."""
    config = _load_file(osp.join(src_dir, 'model', 'Config.py'), '_sctransnet_authors_config')
    network = _load_file(osp.join(src_dir, 'model', 'SCTransNet.py'), '_sctransnet_authors_model')
    return network.SCTransNet(config.get_SCTrans_config(), n_channels=1, img_size=256,
                              mode='test', deepsuper=True)


def authors_probability(output: Tensor) -> Tensor:
    """Test mode returns sigmoid(outc) already: the probability."""
    return output


PEER = PeerSpec(
    name='sctransnet',
    title=TITLE,
    config='configs/sctransnet/sctransnet_1xb4-1k_sirst-256x256.py',
    in_channels=1,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=16,
    requirements=['einops', 'ml_collections'],
)
