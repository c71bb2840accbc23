"""When ResumeValidationHook thinks a saved step should have been validated."""
from types import SimpleNamespace

import pytest

from mmseg_serank.engine.hooks import ResumeValidationHook


def iteration_runner(val_interval: int = 4, max_iters: int = 10) -> SimpleNamespace:
    # mmengine's IterBasedTrainLoop also reports max_epochs (always 1).
    loop = SimpleNamespace(val_begin=1, val_interval=val_interval, max_iters=max_iters,
                           max_epochs=1)
    return SimpleNamespace(train_loop=loop, val_loop=object())


@pytest.mark.parametrize('step,expected', [(4, True), (8, True), (9, False),
                                           (10, True), (1, False)])
def test_iteration_loops_validate_at_the_interval_and_the_last_iteration(step, expected):
    # 10 is the last iteration: mmengine validates it though 10 % 4 != 0.
    assert ResumeValidationHook._validates_at(iteration_runner(), step) is expected


def test_no_validation_loop_means_nothing_to_validate():
    runner = iteration_runner()
    runner.val_loop = None
    assert ResumeValidationHook._validates_at(runner, 8) is False
