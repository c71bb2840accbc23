"""The deploy form of a SeRankDet segmentor and its check against the eval form.

Shared by ``tools/deployment/reparameterize.py`` (which writes the deploy-form
checkpoint) and ``tools/analysis_tools/model_report.py`` (which times both).
"""
from typing import Dict

import torch

from .export import attention_inputs, first_flip_stage

__all__ = ['deploy_differences', 'equivalent', 'relative_difference', 'switch_to_deploy']


def switch_to_deploy(model: torch.nn.Module) -> torch.nn.Module:
    """Deploy form of an EncoderDecoder with a SeRankDet backbone and head."""
    model.backbone.switch_to_deploy()
    model.decode_head.switch_to_deploy()
    return model.eval()


def deploy_differences(model: torch.nn.Module, deployed: torch.nn.Module,
                       inputs: torch.Tensor) -> Dict[str, float]:
    """Max abs differences between the eval and deploy forms.

    ``end_to_end`` compares the fused logits. Top-K selection in the SeRank
    attention is discontinuous, so a ~1e-7 rounding change from folding can swap
    two nearly equal values at the top-K boundary and move a later output by
    much more; ``flip_stage`` is the first stage where that happened (0 if
    none). ``teacher_forced`` feeds every deployed encoder block and the
    deployed head with the eval form's own inputs, which isolates the folding
    itself from such flips.
    """
    records = []
    handles = [block.register_forward_hook(
        lambda _m, args, out: records.append((args[0], out)))
        for block in model.backbone.ddc_blocks]
    try:
        with torch.no_grad(), attention_inputs(model.backbone) as selected_from:
            expected = model(inputs, mode='tensor')
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        features = model.extract_feat(inputs)
        with attention_inputs(deployed.backbone) as deployed_selected_from:
            actual = deployed(inputs, mode='tensor')
        forced = [relative_difference(block(block_in), block_out)
                  for (block_in, block_out), block in zip(records,
                                                          deployed.backbone.ddc_blocks)]
        forced.append(relative_difference(deployed.decode_head(features), expected))
    flip_stage = first_flip_stage(model.backbone.rank_attentions, selected_from,
                                  deployed_selected_from)
    return {'end_to_end': (expected - actual).abs().max().item(),
            'teacher_forced': max(forced), 'flip_stage': flip_stage or 0,
            'scale': max(1.0, expected.abs().max().item())}


def relative_difference(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """Max abs difference relative to max(1, max|theirs|): folding only reorders
    float operations, so its error scales with the magnitude of the values."""
    return ((ours - theirs).abs().max() / max(1.0, theirs.abs().max().item())).item()


def equivalent(differences: Dict[str, float], tolerance: float) -> bool:
    """Every deployed module within ``tolerance`` (relative) of the eval form fed
    the same inputs, and the logits end to end within ``tolerance * max(1,
    max|logit|)`` unless a top-K flip happened."""
    if differences['teacher_forced'] > tolerance:
        return False
    limit = tolerance * differences['scale']
    return differences['flip_stage'] > 0 or differences['end_to_end'] <= limit
