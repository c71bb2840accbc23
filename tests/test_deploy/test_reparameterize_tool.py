"""tools/deployment/reparameterize.py as a user runs it, on bad input and failing disks."""
import os
import resource
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from test_tools.conftest import DEMO_CONFIG, REPO_ROOT, tiny_model_options

from .conftest import WIDTH

BASELINE_CONFIG = 'configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py'


def run_reparameterize(config, checkpoint, out, *extra, file_size_limit=None):
    """The tool in a subprocess; ``file_size_limit`` (bytes) makes larger writes
    fail with EFBIG, as a full disk would."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE='1')
    return subprocess.run([sys.executable, 'tools/deployment/reparameterize.py', str(config),
                           str(checkpoint), str(out), *extra], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_file_size if file_size_limit else None)


def test_folds_and_reports_the_first_flip_stage(tiny_checkpoint, tmp_path):
    out = tmp_path / 'deploy.pth'
    result = run_reparameterize(DEMO_CONFIG, tiny_checkpoint, out,
                                '--cfg-options', *tiny_model_options(WIDTH))
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'first top-K selection flip at stage none' in result.stdout
    state = torch.load(out, map_location='cpu', weights_only=True)
    assert state['meta']['deploy'] == 'cdc+bn folded'
    assert not any('running_mean' in key for key in state['state_dict'])


def test_an_earlier_file_survives_a_write_that_fails(tiny_checkpoint, tmp_path):
    """A disk that fills up mid-write: the old tool truncated OUT first, so the
    earlier deploy checkpoint there was lost."""
    out = tmp_path / 'deploy.pth'
    out.write_bytes(b'earlier deploy checkpoint')
    limit = 16 * 1024
    assert tiny_checkpoint.stat().st_size > limit  # the new file cannot fit
    result = run_reparameterize(DEMO_CONFIG, tiny_checkpoint, out,
                                '--cfg-options', *tiny_model_options(WIDTH),
                                file_size_limit=limit)
    assert result.returncode != 0
    assert f'error: cannot write {out}' in result.stderr, result.stderr[-3000:]
    assert out.read_bytes() == b'earlier deploy checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['deploy.pth']


def test_a_model_without_a_deploy_form_is_named(tmp_path):
    """A baseline (UNet): the old tool ended in a TypeError traceback."""
    init_default_scope('mmseg')
    checkpoint = tmp_path / 'unet.pth'
    model = MODELS.build(Config.fromfile(BASELINE_CONFIG).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    out = tmp_path / 'deploy.pth'
    result = run_reparameterize(BASELINE_CONFIG, checkpoint, out)
    assert result.returncode == 1
    assert (f'error: {BASELINE_CONFIG}: model.backbone is UNet, which has no deploy form'
            in result.stderr), result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    assert not out.exists()


def test_the_same_command_gives_the_same_verdict_every_time(tiny_checkpoint, tmp_path):
    """The check input was unseeded: one checkpoint was refused (1.18e-4) and
    then written (8.4e-5) by the same command. Five runs must agree exactly,
    and the module-wise error must sit far below the tolerance (relative)."""
    reports = []
    for run in range(5):
        result = run_reparameterize(DEMO_CONFIG, tiny_checkpoint, tmp_path / f'{run}.pth',
                                    '--cfg-options', *tiny_model_options(WIDTH))
        assert result.returncode == 0, result.stderr[-3000:]
        reports.append(next(line for line in result.stdout.splitlines()
                            if line.startswith('eval vs deploy')))
    assert len(set(reports)) == 1, reports
    forced = float(reports[0].split('teacher-forced ')[1].split(' ')[0])
    assert forced < 2e-5, reports[0]  # float noise, 5x below the tolerance
