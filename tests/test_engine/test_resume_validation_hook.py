"""When ResumeValidationHook thinks a saved step should have been validated."""
from types import SimpleNamespace

import pytest

from mmseg_serank.checkpoint.saving import NotARegularFileError
from mmseg_serank.engine.hooks import ResumeValidationHook
from mmseg_serank.engine.hooks.resume_validation_hook import RECORD_NAME


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


@pytest.mark.parametrize('kind', ['folder', 'symlink'])
def test_a_record_path_that_is_not_a_regular_file_stops_the_run_before_training(
        tmp_path, kind):
    record = tmp_path / RECORD_NAME
    if kind == 'folder':
        record.mkdir()
    else:
        (tmp_path / 'elsewhere.json').write_text('{"step": 3}')
        record.symlink_to(tmp_path / 'elsewhere.json')
    runner = iteration_runner()
    runner.work_dir, runner.iter = str(tmp_path), 0  # a fresh run
    with pytest.raises(NotARegularFileError, match=f'{RECORD_NAME} is a'):
        ResumeValidationHook().before_train(runner)
    assert record.is_dir() if kind == 'folder' else (
        (tmp_path / 'elsewhere.json').read_text() == '{"step": 3}')
