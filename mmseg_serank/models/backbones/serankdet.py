"""SeRankDet encoder: five DDC + SeRank attention stages."""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..layers import DDCBlock, SeRankAttention, reparameterize_model

NUM_STAGES = 5


@MODELS.register_module()
class SeRankDet(BaseModule):
    """The SeRankDet encoder (Dai et al., TGRS 2024).

    Stage i is a :class:`DDCBlock` (-> ``base_channels * 2**i``) followed by
    :class:`SeRankAttention`, with 2x2 max-pooling between stages. The input is
    zero-padded at the bottom and right to a multiple of 16 so that any
    H, W >= 1 works; the features describe the padded input and the decode head
    crops its outputs back to the input size.

    Args:
        in_channels (int): Image channels.
        base_channels (int): Width of stage 1; stage i has ``base * 2**i``.
        topk (Sequence[int]): K of the SeRank attention per stage. Like the
            reference these follow the stage, not the width.
        pos_table_size (Sequence[int]): E (positional frequencies) per stage.
        attention_norm (str): 'sample' (batch-independent, default) or 'batch'
            (the reference's whole-batch standardisation).
        cdc_theta (float): Theta of the central difference convs.
        norm_cfg (dict): Norm layers; use ``dict(type='SyncBN')`` on multi-GPU.
        act_cfg (dict): Activation layers.
        deploy (bool): Build the inference-only deploy form (CDCs and BNs
            folded, see :meth:`switch_to_deploy`) so checkpoints written by
            tools/deployment/reparameterize.py load into it.
    """

    size_divisor = 2**(NUM_STAGES - 1)

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 topk: Sequence[int] = (512, 256, 128, 64, 32),
                 pos_table_size: Sequence[int] = (512, 256, 128, 64, 32),
                 attention_norm: str = 'sample',
                 cdc_theta: float = 0.7,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 deploy: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if len(topk) != NUM_STAGES or len(pos_table_size) != NUM_STAGES:
            raise ValueError(f'topk and pos_table_size need {NUM_STAGES} entries, '
                             f'got {tuple(topk)} and {tuple(pos_table_size)}')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        self.widths = [base_channels * 2**i for i in range(NUM_STAGES)]
        # Read by IRSTDEncoderDecoder to size the decode head (one width setting).
        self.out_channels = tuple(self.widths)
        stage_inputs = [in_channels] + self.widths[:-1]
        self.ddc_blocks = nn.ModuleList(
            DDCBlock(cin, cout, norm_cfg, act_cfg, cdc_theta)
            for cin, cout in zip(stage_inputs, self.widths))
        self.rank_attentions = nn.ModuleList(
            SeRankAttention(k, e, attention_norm)
            for k, e in zip(topk, pos_table_size))
        if deploy:
            self.switch_to_deploy()

    def pad_input(self, x: Tensor) -> Tensor:
        # No Python branch on the sizes: under ONNX tracing they are graph
        # values, so the padding follows the input size of the exported model.
        height, width = x.shape[-2:]
        return F.pad(x, (0, -width % self.size_divisor, 0, -height % self.size_divisor))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.pad_input(x)
        features: List[Tensor] = []
        for index, (block, attention) in enumerate(
                zip(self.ddc_blocks, self.rank_attentions)):
            if index > 0:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            x = attention(block(x))
            features.append(x)
        return tuple(features)

    def switch_to_deploy(self) -> None:
        """Fold CDCs and BNs into plain convs (inference only, irreversible)."""
        reparameterize_model(self)
