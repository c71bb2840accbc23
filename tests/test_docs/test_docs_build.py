"""The documentation builds with warnings as errors, and the model zoo is generated."""
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_docs_build_with_warnings_as_errors(tmp_path):
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '-b', 'html', '-d', str(tmp_path / 'doctrees'),
         'docs/en', str(tmp_path / 'html')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert elapsed < 120, f'the docs build took {elapsed:.0f} s'
    html = tmp_path / 'html'
    for page in ('index', 'get_started', 'model_zoo', 'benchmarks', 'faq', 'changelog',
                 'user_guides/data', 'user_guides/train_test', 'user_guides/inference',
                 'user_guides/peer_models', 'user_guides/benchmarking',
                 'user_guides/deployment', 'advanced_guides/metrics',
                 'advanced_guides/checkpoints_and_safety', 'advanced_guides/adding_a_model'):
        assert (html / f'{page}.html').is_file(), page
    # Every config of every metafile reaches the generated model zoo.
    zoo = (html / 'model_zoo.html').read_text(encoding='utf-8')
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    configs = [model['Config'] for metafile in index['Import']
               for model in yaml.safe_load((REPO_ROOT / metafile).read_text())['Models']]
    assert len(configs) >= 30
    for config in configs:
        assert config in zoo, config
    assert '81.27' in zoo and '77.50' in zoo  # published numbers, as the metafiles write them
