"""Check IRSTDMetric's ``dataset_groups`` against every image before inference.

The metric learns an image's path only when the image is scored, so an image
of no group (a typo in a regex, a data set missing from the groups) used to
stop a test after every earlier image had been run through the model. This
hook gives the metric the whole validation or test set before its loop runs.
"""
from typing import Set

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...evaluation.metrics.irstd_metric import IRSTDMetric

__all__ = ['CheckDatasetGroupsHook']


@HOOKS.register_module()
class CheckDatasetGroupsHook(Hook):
    """Before training (for validation), validating or testing: every image of
    the loop's data set belongs to exactly one group of its IRSTDMetric."""

    priority = 'VERY_HIGH'  # before any other hook's work on the loop

    def __init__(self) -> None:
        self._checked: Set[int] = set()

    def _check(self, loop) -> None:
        if loop is None or id(loop) in self._checked:
            return
        self._checked.add(id(loop))
        for metric in loop.evaluator.metrics:
            if isinstance(metric, IRSTDMetric):
                metric.check_dataset_groups(loop.dataloader.dataset)

    def before_train(self, runner) -> None:
        self._check(runner.val_loop)

    def before_val(self, runner) -> None:
        self._check(runner.val_loop)

    def before_test(self, runner) -> None:
        self._check(runner.test_loop)
