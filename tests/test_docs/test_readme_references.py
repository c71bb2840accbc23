"""Every test, tool and config the README cites exists, so each claim stays backed."""
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / 'README.md').read_text()
# `tests/x.py::test_a` and the `::test_b` shorthand that follows it in the same sentence.
TEST_REFERENCE = re.compile(r'(tests/[\w/]+\.py)(::\w+)?|(?<![\w/])::(\w+)')
PATH_REFERENCE = re.compile(r'(?<![\w/.])((?:tools|configs|mmseg_serank)/[\w/.-]+\.(?:py|sh))')


def test_cited_tests_exist():
    current_file, checked = None, 0
    for match in TEST_REFERENCE.finditer(README):
        path, qualified, shorthand = match.groups()
        if path:
            current_file = REPO_ROOT / path
            assert current_file.is_file(), f'README cites missing {path}'
            name = qualified[2:] if qualified else None
        else:
            name = shorthand
        if name:
            assert current_file is not None, f'README cites ::{name} before any test file'
            assert re.search(rf'def {name}\b', current_file.read_text()), (
                f'README cites {current_file.relative_to(REPO_ROOT)}::{name}, which is '
                'not defined there')
            checked += 1
    assert checked >= 10


def test_cited_tools_and_configs_exist():
    paths = set(PATH_REFERENCE.findall(README))
    assert paths
    missing = sorted(p for p in paths if not (REPO_ROOT / p).exists())
    assert not missing, f'README cites missing files: {missing}'
