"""The model index: ``mim search`` / ``mim list`` see every config of an installed package."""
import re
import shutil
import sys
from pathlib import Path
from typing import List

import pytest
import yaml

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool

MIM = Path(sys.executable).with_name('mim')
CONFIG_DIRS = tuple(sorted(str(d.relative_to(REPO_ROOT)) for d in (REPO_ROOT / 'configs').iterdir()
                           if d.is_dir() and d.name != '_base_'))


def _configs() -> List[str]:
    return sorted(str(p.relative_to(REPO_ROOT)) for d in CONFIG_DIRS
                  for p in (REPO_ROOT / d).glob('*.py'))


def _metafile_models() -> List[dict]:
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    models = []
    for metafile in index['Import']:
        models += yaml.safe_load((REPO_ROOT / metafile).read_text())['Models']
    return models


def test_metafiles_list_every_config_once():
    models = _metafile_models()
    listed = [m['Config'] for m in models]
    assert sorted(listed) == _configs()
    for model in models:
        assert (REPO_ROOT / model['Config']).is_file(), model['Config']
        assert Path(model['Config']).stem == model['Name']


def test_package_mim_folder_points_at_the_repository_files():
    """mmseg_serank/.mim is what a build copies into the package: it must be the repo's files."""
    mim_dir = REPO_ROOT / 'mmseg_serank/.mim'
    assert (mim_dir / 'model-index.yml').resolve() == REPO_ROOT / 'model-index.yml'
    assert (mim_dir / 'configs').resolve() == REPO_ROOT / 'configs'
    assert (mim_dir / 'tools').resolve() == REPO_ROOT / 'tools'


@pytest.mark.slow
def test_mim_search_and_list_see_every_config_of_an_installed_package(tmp_path):
    # A normal (non-editable) install of a copy of the project, into a folder put first on
    # PYTHONPATH: what `pip install .` puts in site-packages, without touching the venv.
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('pyproject.toml', 'setup.cfg', 'README.md', 'model-index.yml'):
        shutil.copy2(REPO_ROOT / name, src / name)
    for name in ('mmseg_serank', 'configs', 'tools'):
        shutil.copytree(REPO_ROOT / name, src / name, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__'))
    site = tmp_path / 'site'
    run_tool([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
              '--no-build-isolation', '--target', site, src])
    installed_index = site / 'mmseg_serank/.mim/model-index.yml'
    assert installed_index.is_file() and not installed_index.is_symlink()

    env = {'PYTHONPATH': str(site)}
    search = run_tool([MIM, 'search', 'mmseg-serank'], env_extra=env, timeout=120)
    # The import name finds the same configs (it failed with "upgrade" before).
    by_import_name = run_tool([MIM, 'search', 'mmseg_serank'], env_extra=env, timeout=120)
    assert by_import_name.stdout == search.stdout
    for config in _configs():
        assert f'config id: {Path(config).stem}\n' in search.stdout, config
        assert (site / 'mmseg_serank/.mim' / config).is_file(), config
    assert 'configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py' in search.stdout
    # The published numbers reach the search table (mim lower-cases the keys).
    table = run_tool([MIM, 'search', 'mmseg-serank', '--field', 'sirst/iou'],
                     env_extra=env, timeout=120)
    assert '81.27' in table.stdout
    listed = run_tool([MIM, 'list'], env_extra=env, timeout=120)
    assert 'mmseg-serank' in listed.stdout
    # mmseg's tools tree travels in the package: `mim run` finds get_flops there.
    installed_tool = site / 'mmseg_serank/.mim/tools/analysis_tools/get_flops.py'
    assert installed_tool.is_file() and not installed_tool.is_symlink()
    flops = run_tool([MIM, 'run', 'mmseg_serank', 'get_flops', DEMO_CONFIG, '--shape', '64',
                      '64'], env_extra=env, timeout=300)
    assert str(installed_tool) in flops.stdout  # mim names the script it runs
    assert re.search(r'Flops: [\d.]+[KMG]\b', flops.stdout), flops.stdout



def test_published_numbers_agree_across_metafile_and_readmes():
    """The metafile's IoU / nIoU are the ones both model-zoo tables print."""
    published = {Path(m['Config']).name: (m['Results']['Metrics']['IoU'],
                                          m['Results']['Metrics']['nIoU'])
                 for m in _metafile_models()
                 if 'Results' in m and m['In Collection'] == 'SeRankDet'}
    assert len(published) == 4
    zoo = (REPO_ROOT / 'README.md').read_text()
    config_readme = (REPO_ROOT / 'configs/serankdet/README.md').read_text()
    for config, (iou, niou) in published.items():
        assert re.search(rf'`serankdet/{re.escape(config)}` \|.*\| {iou} / {niou} \|', zoo), config
        assert re.search(rf'\| {iou} \| {niou} \| \[config\]\(\./{re.escape(config)}\)',
                         config_readme), config


def test_mim_search_finds_the_peers_by_both_names_in_the_set_up_environment():
    """What `make setup` gives (an editable install): both spellings list every config,
    the peer networks' included."""
    outputs = [run_tool([MIM, 'search', name], timeout=120).stdout
               for name in ('mmseg-serank', 'mmseg_serank')]
    assert outputs[0] == outputs[1]
    for config in _configs():
        assert f'config id: {Path(config).stem}\n' in outputs[0], config
    for name in ('dnanet', 'mshnet', 'acm', 'rdian', 'uiunet', 'sctransnet'):
        assert f'config id: {name}_1xb4-1k_sirst-256x256\n' in outputs[0], name
