"""Write the deploy form of a SeRankDet checkpoint and check it is equivalent.

Usage: python tools/deploy/reparameterize.py CONFIG CKPT OUT [--shape H W]
       [--cfg-options KEY=VALUE ...]

The deploy form folds every central difference conv into one plain conv and
every BatchNorm into the conv before it (``switch_to_deploy`` of the backbone
and the head). The result is checked against the eval-form model on a random
input (exit 1 if the folded layers differ by more than --tolerance times
max(1, max |logit|); see
:func:`deploy_differences` for why end-to-end outputs may differ more) and saved as
``{'state_dict', 'meta'}``, ``meta.dataset_meta`` kept from CKPT (the IRSTD
classes and palette if CKPT has none). To test or run it, build the model in deploy form:
``tools/test.py CONFIG OUT --cfg-options model.backbone.deploy=True
model.decode_head.deploy=True`` (the same options work for tools/infer.py).
"""
import argparse
import copy
import sys
from typing import Dict

import torch
from mmengine.config import DictAction
from mmseg.registry import MODELS

from mmseg_serank.apis import checkpoint_dataset_meta
from mmseg_serank.checkpoint import (
    CHECKPOINT_ERRORS,
    check_replaceable,
    checkpoint_error_message,
    load_checkpoint_strict,
    save_atomically,
)
from mmseg_serank.deploy.export import (
    attention_inputs,
    deployable_config,
    first_flip_stage,
)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='where to write the deploy-form checkpoint')
    parser.add_argument('--shape', type=int, nargs=2, default=(256, 256),
                        metavar=('H', 'W'), help='input size of the equality check')
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='max difference of any folded module, relative to '
                        'max(1, max|output|) (float noise is about 1e-6)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random input of the check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    args = parser.parse_args()

    try:
        check_replaceable(args.out)
        cfg = deployable_config(args.config, args.cfg_options)
    except (ValueError, OSError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    model = MODELS.build(cfg.model)
    try:
        source = load_checkpoint_strict(model, args.checkpoint)
    except CHECKPOINT_ERRORS as error:  # refused, damaged or misfit: named with a hint
        print(f'error: {checkpoint_error_message(error)}', file=sys.stderr)
        return 1
    model.eval()
    deployed = switch_to_deploy(copy.deepcopy(model))
    # Seeded: the same command on the same checkpoint gives the same verdict.
    inputs = torch.randn(1, 3, *args.shape,
                         generator=torch.Generator().manual_seed(args.seed))
    differences = deploy_differences(model, deployed, inputs)
    print(f'eval vs deploy at {args.shape[0]}x{args.shape[1]}: end-to-end max abs diff '
          f'{differences["end_to_end"]:.3e} (first top-K selection flip at stage '
          f'{differences["flip_stage"] or "none"}), teacher-forced '
          f'{differences["teacher_forced"]:.3e} (relative), '
          f'max |logit| {differences["scale"]:.3g}')
    if not equivalent(differences, args.tolerance):
        print(f'error: difference exceeds {args.tolerance:g} (relative to max(1, max|x|)); '
              f'not writing {args.out}',
              file=sys.stderr)
        return 1
    meta = {'deploy': 'cdc+bn folded', 'source': str(args.checkpoint),
            'config': str(args.config),
            # classes and palette for mmseg's inferencers and visualiser
            'dataset_meta': checkpoint_dataset_meta(source)}
    try:  # an earlier file at OUT survives a failed or interrupted write
        save_atomically({'state_dict': deployed.state_dict(), 'meta': meta}, args.out)
    except OSError as error:
        print(f'error: cannot write {args.out}: {error}', file=sys.stderr)
        return 1
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
