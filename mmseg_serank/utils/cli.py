"""What the command-line tools share: a config loaded with its options merged, its
custom imports done and its scope set, and output files checked and written
with one-line errors."""
import os
from pathlib import Path
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

# Longest error message a tool prints (a checkpoint of another width lists every tensor).
MAX_MESSAGE = 600


def one_line(text: object) -> str:
    """``text`` with its line breaks and runs of spaces made single spaces."""
    return ' '.join(str(text).split())


def error_line(error: BaseException) -> str:
    """``error`` on one line, cut after :data:`MAX_MESSAGE` characters."""
    text = one_line(error)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + ' ...'


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``path`` with ``--cfg-options`` merged, its custom imports done, scope set;
    a missing file stops the tool with a one-line error."""
    if not os.path.isfile(path):
        raise SystemExit(f'error: config {path} does not exist; give the path of a config '
                         'file (e.g. one under configs/)')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def add_cfg_options(parser) -> None:
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, as in tools/train.py')


def check_output_file(path: str, option: str) -> None:
    """Stop with a one-line error unless ``path`` can be written: its folder exists
    and takes new files, and ``path`` is absent or a regular file."""
    from ..checkpoint.saving import check_replaceable
    folder = Path(path).absolute().parent
    if not folder.is_dir():
        kind = 'is not a folder' if folder.exists() else 'does not exist'
        raise SystemExit(f'error: cannot write {option} {path}: the folder {folder} {kind}')
    try:
        check_replaceable(path)
        import tempfile
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise SystemExit(f'error: cannot write {option} {path}: '
                         f'{" ".join(str(error).split())}') from None


def write_output_file(data: bytes, path: str, option: str) -> None:
    """``data`` into ``path`` atomically (an earlier file stays whole on failure)."""
    from ..checkpoint.saving import write_atomically
    try:
        write_atomically(data, path)
    except OSError as error:
        raise SystemExit(f'error: cannot write {option} {path}: '
                         f'{" ".join(str(error).split())}') from None


def parse(parser, argv: Optional[Sequence[str]]):
    return parser.parse_args(None if argv is None else list(argv))
