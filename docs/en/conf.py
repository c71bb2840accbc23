"""Sphinx configuration of the mmseg-serank documentation (Markdown pages, myst-parser).

Build: ``make docs`` (``sphinx-build -W -b html docs/en docs/_build/html``). Nothing is
fetched at build time: the theme is Sphinx's builtin alabaster. ``model_zoo.md`` is
written by ``stat.py`` from the metafiles listed in model-index.yml before every build.
"""
import os.path as osp
import runpy
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, REPO_ROOT)

# stat.py, run by path: as a module it would shadow the standard library's ``stat``.
runpy.run_path(osp.join(HERE, 'stat.py'), run_name='docs_stat')['main']()


def _version() -> str:
    scope: dict = {}
    with open(osp.join(REPO_ROOT, 'mmseg_serank', 'version.py'), encoding='utf-8') as handle:
        exec(handle.read(), scope)  # noqa: S102 (the package's own version file)
    return scope['__version__']


project = 'mmseg-serank'
author = 'mmseg-serank contributors'
copyright = 'mmseg-serank contributors'  # noqa: A001
release = _version()
version = release

extensions = ['myst_parser']
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
myst_heading_anchors = 3
exclude_patterns = ['_build', '_model_zoo_notes.md', '.model_zoo.*']
# Pages link to each other only; the repository's files are named in code spans.
suppress_warnings: list = []

html_theme = 'alabaster'
html_title = 'mmseg-serank'
html_static_path: list = []
