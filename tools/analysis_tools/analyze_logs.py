"""Plot and summarise training logs (mmengine's ``vis_data/scalars.json``).

mmseg 1.2.2's ``tools/analysis_tools/analyze_logs.py`` needs seaborn and puts
every value on an axis labelled "iter", although validation metrics of an
epoch-based run are logged per epoch. Here training values (loss terms, lr)
are drawn against the iteration and validation metrics (``IRSTD/IoU`` ...)
against the epoch or iteration at which they were computed, with matplotlib
only; the best and last value of each key is printed.
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# One series: (x values, y values, x-axis name).
Series = Tuple[List[float], List[float], str]


def read_scalars(path: Path) -> List[dict]:
    """The records of a ``scalars.json`` (one JSON object a line)."""
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no such log (pass <work_dir>/<time>/vis_data/'
                                'scalars.json)')
    try:
        text = path.read_text(encoding='utf-8')
    except UnicodeDecodeError as error:
        raise ValueError(f'{path}: not a text file ({error}); pass <work_dir>/<time>/'
                         'vis_data/scalars.json') from None
    except OSError as error:
        raise ValueError(f'{path}: cannot read it ({error.strerror})') from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f'{path}, line {number}: not a JSON record ({error}); pass '
                                 '<work_dir>/<time>/vis_data/scalars.json') from None
            if not isinstance(record, dict):
                raise ValueError(f'{path}, line {number}: a JSON {type(record).__name__}, not '
                                 'a record of named values; pass <work_dir>/<time>/'
                                 'vis_data/scalars.json')
            records.append(record)
    return records


def series(records: List[dict], key: str) -> Series:
    """The values of ``key``; training records carry ``iter``, validation records
    only ``step`` (the epoch in epoch-based runs, else the iteration)."""
    by_epoch = any('epoch' in record for record in records)
    xs, ys, axis = [], [], 'iteration'
    for record in records:
        if key not in record:
            continue
        if 'iter' in record:
            xs.append(record['iter'])
        else:
            xs.append(record['step'])
            axis = 'epoch' if by_epoch else 'iteration'
        ys.append(record[key])
    return xs, ys, axis


def best_index(key: str, values: List[float]) -> int:
    """Losses, Fa and times are better low; scores better high."""
    lower_is_better = any(word in key.lower() for word in ('loss', 'fa', 'time'))
    pick = min if lower_is_better else max
    return values.index(pick(values))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='tools/analysis_tools/analyze_logs.py',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('logs', nargs='+', type=Path, help='vis_data/scalars.json files')
    parser.add_argument('--keys', nargs='+', default=['IRSTD/IoU', 'loss'],
                        help='values to plot (default: IRSTD/IoU and loss)')
    parser.add_argument('--legend', nargs='+', help='one name per log (default: its folder)')
    parser.add_argument('--out', type=Path, required=True, help='PNG file to write')
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.logs):
        parser.error('--legend needs one name per log')
    names = args.legend or [log.parent.parent.name or str(log) for log in args.logs]
    try:
        logs = {name: read_scalars(path) for name, path in zip(names, args.logs)}
    except (FileNotFoundError, ValueError) as error:
        parser.exit(1, f'error: {error}\n')
    plotted: Dict[str, Dict[str, Series]] = {key: {} for key in args.keys}
    for key in args.keys:
        for name, records in logs.items():
            xs, ys, axis = series(records, key)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in xs + ys):
                parser.exit(1, f'error: "{key}" in the log of {name} has values that are not '
                               'numbers\n')
            if not xs:
                known = sorted({k for record in records for k in record})
                parser.exit(1, f'error: no "{key}" in the log of {name}; it has: '
                               f'{", ".join(known)}\n')
            plotted[key][name] = (xs, ys, axis)
            best = best_index(key, ys)
            print(f'{name}: {key} best {ys[best]:.6g} at {axis} {xs[best]:g}, '
                  f'last {ys[-1]:.6g} at {axis} {xs[-1]:g}')

    from mmseg_serank.utils.cli import check_output_file, write_output_file
    if args.out.parent != Path('') and not args.out.parent.exists():
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.exit(1, f'error: cannot write --out {args.out}: {error.strerror}\n')
    check_output_file(str(args.out), '--out')
    import io

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(len(args.keys), 1, figsize=(7, 3.2 * len(args.keys)),
                                squeeze=False)
    for row, key in zip(axes[:, 0], args.keys):
        for name, (xs, ys, _) in plotted[key].items():
            row.plot(xs, ys, marker='o' if len(xs) < 30 else None, markersize=3, label=name)
        row.set(xlabel=next(iter(plotted[key].values()))[2], ylabel=key)
        row.grid(alpha=0.3)
        row.legend(fontsize=8)
    figure.tight_layout()
    picture = io.BytesIO()
    try:
        figure.savefig(picture, dpi=110, format=args.out.suffix.lstrip('.').lower() or 'png')
    except ValueError as error:  # a suffix matplotlib cannot write
        parser.exit(1, f'error: --out {args.out}: {error}\n')
    finally:
        plt.close(figure)
    write_output_file(picture.getvalue(), str(args.out), '--out')
    print(f'plot written to {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
