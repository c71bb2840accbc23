"""Print the full config (all bases merged), optionally dump it and print the model."""
import argparse
from typing import Optional, Sequence

from mmseg.registry import MODELS

from ._config import add_cfg_options, load_config, parse


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m mmseg_serank.tools print_config',
                                     description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--graph', action='store_true', help='also build and print the model')
    parser.add_argument('--dump', metavar='FILE',
                        help='write the merged config there (mmseg always wrote example.py)')
    add_cfg_options(parser)
    args = parse(parser, argv)
    cfg = load_config(args.config, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.dump:
        cfg.dump(args.dump)
        print(f'config written to {args.dump}')
    if args.graph:
        print(f'Model graph:\n{MODELS.build(cfg.model)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
