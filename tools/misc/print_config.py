"""Print the full config (all bases merged), optionally dump it and print the model."""
import argparse
from pathlib import Path
from typing import Optional, Sequence

from mmengine.fileio import dump
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers the modules)
from mmseg_serank.utils.cli import (
    add_cfg_options,
    check_output_file,
    load_config,
    parse,
    write_output_file,
)

DUMP_FORMATS = {'.py': None, '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml'}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='tools/misc/print_config.py',
                                     description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--graph', action='store_true', help='also build and print the model')
    parser.add_argument('--dump', metavar='FILE',
                        help='write the merged config there (mmseg always wrote example.py)')
    add_cfg_options(parser)
    args = parse(parser, argv)
    if args.dump:
        if Path(args.dump).suffix.lower() not in DUMP_FORMATS:
            parser.exit(1, f'error: --dump {args.dump}: give a file ending in '
                           f'{", ".join(DUMP_FORMATS)}\n')
        check_output_file(args.dump, '--dump')  # before anything is printed
    cfg = load_config(args.config, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.dump:
        file_format = DUMP_FORMATS[Path(args.dump).suffix.lower()]
        text = cfg.pretty_text if file_format is None else dump(cfg.to_dict(),
                                                                file_format=file_format)
        write_output_file(text.encode('utf-8'), args.dump, '--dump')
        print(f'config written to {args.dump}')
    if args.graph:
        print(f'Model graph:\n{MODELS.build(cfg.model)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
