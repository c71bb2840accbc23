"""Config loading shared by the tools: the plugin imported, options merged, scope set."""
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

import mmseg_serank  # noqa: F401  (registers the modules, applies the mmcv-lite patches)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``path`` with ``--cfg-options`` merged, its custom imports done, scope set."""
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


def parse(parser, argv: Optional[Sequence[str]]):
    return parser.parse_args(None if argv is None else list(argv))
