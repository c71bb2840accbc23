"""Validate, on ``--resume``, the step whose validation an interrupted run never finished.

mmengine's train loops save the checkpoint of epoch (or iteration) N in
``after_train_epoch`` (``after_train_iter``) and validate N only afterwards. A
run killed during that validation resumes from checkpoint N at N + 1, so N is
never scored and can never become the best checkpoint. This hook records each
finished validation in the work dir and, when a resumed run starts at a step
that should have been validated but has no record, validates it before
training goes on.
"""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmseg.registry import HOOKS

from ...checkpoint.saving import check_replaceable, write_atomically

__all__ = ['ResumeValidationHook']

RECORD_NAME = 'last_validated_step.json'


@HOOKS.register_module()
class ResumeValidationHook(Hook):
    """Run the validation an interrupted run skipped, once, on resume."""

    # Last: the checkpoint hook must have resolved the resumed best/last
    # checkpoints before a validation can save a new best.
    priority = 'LOWEST'

    def __init__(self) -> None:
        self._training = False  # runner.val() alone has no train step to record

    def _record_path(self, runner) -> str:
        return osp.join(runner.work_dir, RECORD_NAME)

    @staticmethod
    def _step(runner) -> int:
        """The train step validation is attached to: the epoch or the iteration."""
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        return runner.epoch if by_epoch else runner.iter

    def _last_validated(self, runner) -> Optional[int]:
        try:
            with open(self._record_path(runner)) as file:
                return int(json.load(file)['step'])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no record (or an unreadable one): nothing proves it ran

    @staticmethod
    def _validates_at(runner, step: int) -> bool:
        """Whether the train loop validates after ``step`` (mmengine's rule)."""
        loop = runner.train_loop
        if runner.val_loop is None or step < loop.val_begin:
            return False
        # An iteration loop also has max_epochs (always 1): ask the loop's kind.
        by_epoch = isinstance(loop, EpochBasedTrainLoop)
        max_step = loop.max_epochs if by_epoch else loop.max_iters
        return step % loop.val_interval == 0 or step == max_step

    def before_train(self, runner) -> None:
        self._training = True
        # A folder or link at the record's name would stop the run after its
        # first validation; refuse it now, before any training is spent.
        check_replaceable(self._record_path(runner))
        if runner.iter == 0:  # a fresh run (load_from keeps iter 0): no gap
            return
        step = self._step(runner)
        last = self._last_validated(runner)
        if self._validates_at(runner, step) and (last is None or last < step):
            runner.logger.info(
                f'step {step} was saved but its validation never finished '
                '(the run was interrupted): validating it before training goes on')
            runner.val_loop.run()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not self._training or not is_main_process():
            return
        record = json.dumps({'step': self._step(runner)}).encode()
        write_atomically(record, self._record_path(runner))
