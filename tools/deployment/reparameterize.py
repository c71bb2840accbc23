"""Write the deploy form of a SeRankDet checkpoint and check it is equivalent.

Usage: python tools/deployment/reparameterize.py CONFIG CKPT OUT [--shape H W]
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
from mmseg_serank.deploy.export import deployable_config
from mmseg_serank.deploy.reparameterize import (
    deploy_differences,
    equivalent,
    switch_to_deploy,
)


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
