"""``python -m mmseg_serank.tools {analyze_logs,get_flops,browse_dataset,print_config} ...``."""
import importlib
import sys
from typing import Optional, Sequence

TOOLS = ('analyze_logs', 'browse_dataset', 'get_flops', 'print_config')


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in TOOLS:
        print(f'usage: python -m mmseg_serank.tools {{{",".join(TOOLS)}}} ... '
              '(each with --help)', file=sys.stderr)
        return 2
    tool = importlib.import_module(f'mmseg_serank.tools.{argv[0]}')
    return tool.main(argv[1:])


if __name__ == '__main__':
    raise SystemExit(main())
