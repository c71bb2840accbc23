"""Stop training at the first NaN or infinite loss.

A diverged step poisons the weights (the optimizer has already applied the
NaN gradients when ``after_train_iter`` runs), and every later iteration and
checkpoint is worthless. Raising here ends the run with a message naming the
iteration and loss term; because this hook runs before ``CheckpointHook``
(priority ``VERY_LOW``), the poisoned state is never written.

A finite loss does not prove finite weights: a BN layer's running variance
can overflow a step before the loss does. The message therefore names the
last checkpoint written only after checking that its tensors are finite
(``AtomicCheckpointHook`` refuses to write any other, mmengine's
``CheckpointHook`` does not).
"""
import pickle
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...checkpoint.loading import load_checkpoint_safely

__all__ = ['NonFiniteLossHook']


def non_finite_loss_terms(outputs: Dict) -> List[str]:
    """Names of the loss terms (keys containing 'loss', as mmengine sums them)
    that hold a NaN or infinite value, with the value."""
    bad_terms = []
    for name, value in outputs.items():
        if 'loss' not in name:
            continue
        value = torch.as_tensor(value.detach() if torch.is_tensor(value) else value)
        if not torch.isfinite(value).all():
            bad_terms.append(f'{name}={value.float().mean().item()}')
    return bad_terms


def describe_last_checkpoint(path: Optional[str]) -> str:
    """A sentence on whether the checkpoint at ``path`` is safe to resume from."""
    if not path:
        return 'No checkpoint was written in this run.'
    try:
        state_dict = load_checkpoint_safely(path, map_location='cpu')['state_dict']
    except (OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError) as error:
        return f'The last checkpoint written, {path}, cannot be read ({error}).'
    bad = [name for name, value in state_dict.items()
           if torch.is_tensor(value) and value.is_floating_point()
           and not torch.isfinite(value).all()]
    if bad:
        return (f'The last checkpoint written, {path}, already holds NaN/inf in '
                f'{", ".join(bad[:5])}: do not resume from it; use an earlier one.')
    return (f'The last checkpoint written, {path}, holds finite values only; resume '
            'from it with a lower learning rate or checked data.')


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise ``RuntimeError`` after a train iteration whose loss is NaN or inf.

    In distributed runs the ranks agree (one all-reduce of a flag per
    iteration) so that all of them stop together instead of the healthy ranks
    hanging in the next gradient all-reduce.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        bad_terms = non_finite_loss_terms(outputs or {})
        if get_world_size() > 1:
            # mmengine's all_reduce moves the flag to the backend's device.
            any_rank_bad = torch.tensor(float(bool(bad_terms)))
            all_reduce(any_rank_bad)
            if any_rank_bad.item() > 0 and not bad_terms:
                bad_terms = ['(on another rank)']
        if bad_terms:
            last = runner.message_hub.get_info('last_ckpt')
            raise RuntimeError(
                f'Non-finite loss at iteration {runner.iter + 1} '
                f'(epoch {runner.epoch + 1}): '
                f'{", ".join(bad_terms)}. Training stopped. '
                + describe_last_checkpoint(last))

