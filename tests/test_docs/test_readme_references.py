"""Every test, tool and config the README and the docs cite exists, so each claim stays backed.

Checked in README.md and every Markdown page under docs/en (model_zoo.md included once a build
has generated it): test files and ``::test`` names, and paths of tools, configs and package
modules. The commands of docs/en/get_started.md are checked one by one.
"""
import importlib.util
import re
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / 'docs' / 'en'
DOCUMENTS = [REPO_ROOT / 'README.md'] + sorted(
    p for p in DOCS.rglob('*.md') if '_build' not in p.relative_to(DOCS).parts)
# `tests/x.py::test_a` and the `::test_b` shorthand that follows it in the same document.
TEST_REFERENCE = re.compile(r'(tests/[\w/]+\.py)(::\w+)?|(?<![\w/])::(\w+)')
PATH_REFERENCE = re.compile(
    r'(?<![\w/.])((?:tools|configs|mmseg_serank)/[\w/.-]+\.(?:py|sh|md|yaml|yml))')
FENCE = re.compile(r'^```(\w*)\n(.*?)^```', re.M | re.S)


def _text(path: Path) -> str:
    return path.read_text(encoding='utf-8')


def _name(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def test_the_documents_are_there():
    names = {_name(p) for p in DOCUMENTS}
    for page in ('README.md', 'docs/en/index.md', 'docs/en/get_started.md',
                 'docs/en/benchmarks.md', 'docs/en/faq.md', 'docs/en/changelog.md',
                 'docs/en/user_guides/peer_models.md',
                 'docs/en/advanced_guides/adding_a_model.md'):
        assert page in names, page
    assert len(_text(REPO_ROOT / 'README.md').splitlines()) < 200


def test_cited_tests_exist():
    checked = 0
    for document in DOCUMENTS:
        current_file = None
        for match in TEST_REFERENCE.finditer(_text(document)):
            path, qualified, shorthand = match.groups()
            if path:
                current_file = REPO_ROOT / path
                assert current_file.is_file(), f'{_name(document)} cites missing {path}'
                name = qualified[2:] if qualified else None
            else:
                name = shorthand
            if name:
                assert current_file is not None, (
                    f'{_name(document)} cites ::{name} before any test file')
                assert re.search(rf'def {name}\b', _text(current_file)), (
                    f'{_name(document)} cites {_name(current_file)}::{name}, which is '
                    'not defined there')
                checked += 1
    assert checked >= 10


def test_cited_tools_and_configs_exist():
    missing = []
    for document in DOCUMENTS:
        paths = set(PATH_REFERENCE.findall(_text(document)))
        missing += [f'{_name(document)}: {p}' for p in sorted(paths)
                    if not (REPO_ROOT / p).exists()]
    assert not missing, f'cited files that do not exist: {missing}'


def _commands(markdown: str):
    """Each shell command of the bash blocks, continuation lines joined, comments dropped."""
    for language, body in FENCE.findall(markdown):
        if language not in ('bash', 'sh', 'shell'):
            continue
        body = body.replace('\\\n', ' ')
        for line in body.splitlines():
            line = line.split(' #', 1)[0].strip()
            if line and not line.startswith('#'):
                yield line


def _make_targets():
    makefile = _text(REPO_ROOT / 'Makefile')
    return set(re.findall(r'^([\w-]+):', makefile, re.M))


def test_get_started_commands_refer_to_existing_scripts_and_configs():
    commands = list(_commands(_text(DOCS / 'get_started.md')))
    assert len(commands) >= 8
    targets = _make_targets()
    for command in commands:
        words = shlex.split(command)
        if words[0] == 'make':
            assert set(words[1:]) <= targets, command
            continue
        if words[0] in ('python', 'python3') and words[1] == '-m':
            assert importlib.util.find_spec(words[2]) is not None, command
        elif words[0] in ('python', 'python3'):
            assert (REPO_ROOT / words[1]).is_file(), command
        else:
            assert words[0] in ('pip', 'mim'), f'unchecked command: {command}'
        for word in words[1:]:
            if word.startswith(('configs/', 'tools/')) or re.fullmatch(r'[\w/.-]+/[\w.-]+\.(py|sh)',
                                                                       word):
                assert (REPO_ROOT / word).exists(), f'{command}: {word} does not exist'
