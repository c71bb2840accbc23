"""Benchmark IRSTD models on one data set at one training budget, into one table.

Every config (SeRankDet or any mmseg model trained with this plugin's data and
metric) is trained for the same number of iterations with the stock runner
(``tools/train.py``, one process, or ``torch.distributed.run`` with
``--gpus N``), its last checkpoint is tested at native resolution with
IRSTDMetric and a threshold sweep (``tools/test.py``), and size and speed are
measured. Results: ``WORK_DIR/benchmark.csv`` and ``benchmark.md`` (IoU, nIoU,
Pd, Fa, precision, recall, F1, ROC AUC, params, GMACs, batch-1 latency,
training time) and ``benchmark_curves.png`` (every model's Pd-Fa and
precision-recall curves on one figure).

Usage::

    python tools/analysis_tools/benchmark_models.py CONFIG [CONFIG ...] --work-dir DIR \\
        --iters 2000 [--data-root data/sirst] [--gpus 1] [--resize-to-base] \\
        [--shape 256 256] [--cfg-options key=value ...]

It resumes: a model whose ``DIR/NAME/result.json`` exists is not trained or
tested again (delete that file to redo it), and a model whose training was
interrupted continues from its last checkpoint (``tools/train.py --resume``),
its training time counting the seconds that checkpoint took plus the resumed
run's. Links, folders or devices where it writes a file are refused before
anything trains.
Each model's derived config (``DIR/configs/NAME.py``) records exactly what
was run.
"""
import argparse
import csv
import io
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers modules)
from mmseg_serank.checkpoint import NotARegularFileError, check_replaceable, write_atomically
from mmseg_serank.utils.model_cost import count_macs, median_latency

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLE_COLUMNS = [
    ('model', None), ('IoU', 'IRSTD/IoU'), ('nIoU', 'IRSTD/nIoU'), ('Pd', 'IRSTD/Pd'),
    ('Fa (x1e-6)', 'IRSTD/Fa'), ('Precision', 'IRSTD/Precision'),
    ('Recall', 'IRSTD/Recall'), ('F1', 'IRSTD/F1'), ('ROC AUC', 'IRSTD/ROC_AUC'),
    ('params (M)', 'params_m'), ('GMACs', 'gmacs'), ('latency (ms)', 'latency_ms'),
    ('train (s)', 'train_seconds'),
]
PROGRESS = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\].*?eta: ([0-9:]+(?: day[s]?, [0-9:]+)?)')
# mmengine's CheckpointHook logs this line just before it saves iter_N.pth.
CHECKPOINT_SAVING = re.compile(r'Saving checkpoint at (\d+) iterations')
# What the tool writes: the work folder's and every model folder's files, each
# absent or a regular file of the tool's own, never replaced through a link.
WORK_DIR_OUTPUTS = ('benchmark.csv', 'benchmark.md', 'benchmark_curves.png')
MODEL_OUTPUTS = ('result.json', 'train_seconds.json', 'train_output.log', 'test_output.log')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='config files to compare')
    parser.add_argument('--work-dir', required=True, help='results and checkpoints')
    parser.add_argument('--iters', type=int, required=True,
                        help='training iterations, the same for every model')
    parser.add_argument('--warmup-iters', type=int, default=None,
                        help='linear warm-up length (default: 5 %% of --iters)')
    parser.add_argument('--data-root', help="replaces every dataloader's data_root")
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per model; > 1 trains with torch.distributed.run')
    parser.add_argument('--resize-to-base', action='store_true',
                        help="score as the SeRankDet reference does: test images resized "
                             "to the base size (the data config's test_pipeline_resize_to_base)")
    parser.add_argument('--thresholds', type=int, default=20,
                        help='threshold sweep points for the Pd-Fa and PR curves')
    parser.add_argument('--shape', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'),
                        help='input size for GMACs and latency')
    parser.add_argument('--latency-runs', type=int, default=5)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='extra settings for every model, key=value')
    args = parser.parse_args(argv)
    if args.iters < 2:
        parser.error('--iters must be at least 2')
    if args.gpus < 1 or args.thresholds < 2 or args.latency_runs < 1:
        parser.error('--gpus and --latency-runs must be >= 1, --thresholds >= 2')
    if args.warmup_iters is None:
        args.warmup_iters = max(1, args.iters // 20)
    if not 0 < args.warmup_iters < args.iters:
        parser.error('--warmup-iters must be between 1 and --iters - 1')
    return args


def model_names(configs: Sequence[str]) -> List[str]:
    """Config stems, numbered where two configs share a file name."""
    stems = [Path(config).stem for config in configs]
    return [stem if stems.count(stem) == 1 else f'{stem}_{index}'
            for index, stem in enumerate(stems)]


def derived_config(config: str, args: argparse.Namespace) -> str:
    """The config text that trains ``config`` for exactly ``args.iters`` iterations."""
    checkpoint_interval = max(1, args.iters // 4)
    lines = [
        '# Written by tools/analysis_tools/benchmark_models.py: the base config at a fixed '
        'iteration budget.',
        f'_base_ = [{str(Path(config).resolve())!r}]',
        # No validation: the last checkpoint is scored once, by tools/test.py.
        f"train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={args.iters}, "
        f'val_interval={args.iters}, val_begin={args.iters + 1})',
        "train_dataloader = dict(sampler=dict(_delete_=True, type='InfiniteSampler', "
        'shuffle=True))',
        'param_scheduler = [',
        "    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, "
        f'end={args.warmup_iters}),',
        "    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, "
        f'begin={args.warmup_iters}, end={args.iters}),',
        ']',
        f'default_hooks = dict(checkpoint=dict(by_epoch=False, interval={checkpoint_interval}, '
        'max_keep_ckpts=1, save_best=None), logger=dict(interval=10, '
        'log_metric_by_epoch=False))',
        'log_processor = dict(by_epoch=False)',
    ]
    if args.data_root:
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            lines.append(f'{loader} = dict(dataset=dict(data_root={args.data_root!r}))')
    if args.resize_to_base:
        for loader in ('val_dataloader', 'test_dataloader'):
            lines.append(f'{loader} = dict(dataset=dict('
                         'pipeline={{_base_.test_pipeline_resize_to_base}}))')
    return '\n'.join(lines) + '\n'


def cfg_option_args(args: argparse.Namespace) -> List[str]:
    if not args.cfg_options:
        return []
    items = []
    for key, value in args.cfg_options.items():
        text = value if isinstance(value, str) else repr(value).replace(' ', '')
        items.append(f'{key}={text}')
    return ['--cfg-options', *items]


def tool_command(script: str, args: argparse.Namespace) -> List[str]:
    if args.gpus == 1:
        return [sys.executable, script]
    return [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={args.gpus}',
            f'--master_port={29500 + os.getpid() % 1000}', script]


class ModelFailedError(RuntimeError):
    """One model's training or test failed; the others go on."""


def last_error_line(log_path: Path) -> str:
    """The child's last error line (the cause), or the last line of its output."""
    lines = [line.strip() for line in log_path.read_text(errors='replace').splitlines()
             if line.strip()] if log_path.exists() else []
    errors = [line for line in lines if re.match(r'^[A-Za-z_.]*(Error|Exception)\b', line)
              or line.startswith('error:')]
    return (errors or lines or ['(no output)'])[-1]


def write_text(text: str, path: Path) -> None:
    """Replace ``path`` (absent or a regular file) in one rename: a kill leaves the
    old file or the new one, and a link there is refused, not written through."""
    write_atomically(text.encode(), path)


def run_streamed(command: List[str], log_path: Path, label: str,
                 on_line: Optional[Callable[[str], None]] = None) -> None:
    """Run ``command``, keep its whole output in ``log_path``, show progress lines
    and hand every line to ``on_line``."""
    check_replaceable(log_path)
    with open(log_path, 'a') as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            log.write(line)
            if on_line is not None:
                on_line(line)
            match = PROGRESS.search(line)
            if match:
                done, total, eta = match.groups()
                print(f'\r  {label}: iteration {done}/{total}, eta {eta}   ', end='',
                      flush=True)
        code = process.wait()
    print()
    if code != 0:
        raise ModelFailedError(f'{label} failed (exit {code}): {last_error_line(log_path)} '
                          f'(whole output: {log_path})')


def resumed_iteration(model_dir: Path) -> Optional[int]:
    """The iteration of the checkpoint ``--resume`` will load, if any."""
    pointer = model_dir / 'last_checkpoint'
    if not pointer.exists():
        return None
    match = re.search(r'iter_(\d+)\.pth$', pointer.read_text().strip())
    return int(match.group(1)) if match else None


def train(config_path: Path, model_dir: Path, args: argparse.Namespace) -> float:
    """Train (or continue training); return the training seconds behind the last
    checkpoint.

    ``train_seconds.json`` records, as each checkpoint is saved, the seconds spent
    to reach it. A run killed between checkpoints resumes from the last one, so
    the table counts that checkpoint's seconds plus the resumed run's: the time
    an uninterrupted run takes, not only the part after the kill.
    """
    record_path = model_dir / 'train_seconds.json'
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    checkpoint_seconds: Dict[str, float] = record.get('checkpoints', {})
    command = tool_command('tools/train.py', args) + [str(config_path), '--work-dir',
                                                      str(model_dir)]
    spent_before = 0.0
    if (model_dir / 'last_checkpoint').exists():
        print(f'  continuing from {(model_dir / "last_checkpoint").read_text().strip()}')
        command.append('--resume')
        iteration = resumed_iteration(model_dir)
        if str(iteration) in checkpoint_seconds:
            spent_before = checkpoint_seconds[str(iteration)]
        else:
            print('  no training time is recorded for that checkpoint: train (s) counts '
                  'from here')
    if args.gpus > 1:
        command += ['--launcher', 'pytorch']
    command += cfg_option_args(args)
    start = time.perf_counter()

    def record_checkpoint(line: str) -> None:
        match = CHECKPOINT_SAVING.search(line)
        if match:
            checkpoint_seconds[match.group(1)] = spent_before + time.perf_counter() - start
            write_text(json.dumps(dict(checkpoints=checkpoint_seconds)), record_path)

    run_streamed(command, model_dir / 'train_output.log', 'training', record_checkpoint)
    return checkpoint_seconds.get(str(args.iters), spent_before + time.perf_counter() - start)


def test(config_path: Path, model_dir: Path, args: argparse.Namespace) -> Dict[str, float]:
    checkpoint = model_dir / f'iter_{args.iters}.pth'
    if not checkpoint.exists():
        raise ModelFailedError(f'training ended without {checkpoint}')
    test_dir = model_dir / 'test'
    command = tool_command('tools/test.py', args) + [
        str(config_path), str(checkpoint), '--work-dir', str(test_dir)]
    if args.gpus > 1:
        command += ['--launcher', 'pytorch']
    options = cfg_option_args(args) or ['--cfg-options']
    command += options + [f'test_evaluator.thresholds={args.thresholds}',
                          f'test_evaluator.output_dir={model_dir / "curves"}']
    before = set(test_dir.glob('test_results/*_metrics.json'))
    run_streamed(command, model_dir / 'test_output.log', 'testing')
    reports = sorted(set(test_dir.glob('test_results/*_metrics.json')) - before)
    if not reports:
        raise ModelFailedError(f'tools/test.py wrote no metrics under {test_dir}')
    return json.loads(reports[-1].read_text())['metrics']


def size_and_speed(config_path: Path, args: argparse.Namespace) -> Dict[str, float]:
    """Parameters, GMACs and batch-1 latency (median) of the inference path."""
    cfg = Config.fromfile(str(config_path))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    torch.manual_seed(0)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = MODELS.build(cfg.model).eval().to(device)
    channels = 1 if getattr(model.data_preprocessor, 'grey', False) else 3
    inputs = torch.randn(1, channels, *args.shape, device=device)
    return dict(params_m=sum(p.numel() for p in model.parameters()) / 1e6,
                gmacs=count_macs(model, inputs) / 1e9,
                latency_ms=1e3 * median_latency(model, inputs, args.latency_runs))


def benchmark_one(config: str, model_dir: Path, args: argparse.Namespace) -> dict:
    # Not inside model_dir: the runner dumps its config there under the same name.
    config_path = model_dir.parent / 'configs' / f'{model_dir.name}.py'
    config_text = derived_config(config, args) + f'# cfg-options: {cfg_option_args(args)}\n'
    if config_path.exists() and config_path.read_text() != config_text:
        before = config_path.read_text().splitlines()
        now = config_text.splitlines()
        differing = [f'    was: {old}\n    now: {new}' for old, new in zip(before, now)
                     if old != new]
        differing += [f'    now: {line}' for line in now[len(before):]]
        differing += [f'    was: {line}' for line in before[len(now):]]
        raise SystemExit(f'{config_path} was written for other settings (budget, data, '
                         'protocol or --cfg-options); use another --work-dir or delete that '
                         'folder. The differing lines:\n' + '\n'.join(differing))
    result_path = model_dir / 'result.json'
    if result_path.exists():
        print('  finished earlier; delete result.json to redo it')
        return json.loads(result_path.read_text())
    model_dir.mkdir(parents=True, exist_ok=True)
    config_path.parent.mkdir(exist_ok=True)
    write_text(config_text, config_path)
    time_path = model_dir / 'train_seconds.json'
    if not (model_dir / f'iter_{args.iters}.pth').exists():
        seconds = train(config_path, model_dir, args)
        record = json.loads(time_path.read_text()) if time_path.exists() else {}
        write_text(json.dumps(dict(record, seconds=seconds)), time_path)
    else:  # trained earlier, not yet tested
        seconds = json.loads(time_path.read_text())['seconds'] if time_path.exists() else 0.0
    metrics = test(config_path, model_dir, args)
    result = dict(config=config, iters=args.iters, train_seconds=seconds, **metrics,
                  **size_and_speed(config_path, args))
    write_text(json.dumps(result, indent=2), result_path)
    return result


def table_cells(name: str, result: dict) -> List[str]:
    cells = [name]
    for _, key in TABLE_COLUMNS[1:]:
        value = result.get(key)
        if value is None:
            cells.append('-')
        elif key == 'IRSTD/Fa':
            cells.append(f'{value * 1e6:.1f}')
        elif key == 'IRSTD/ROC_AUC':
            cells.append(f'{value:.4f}')
        elif key in ('params_m', 'gmacs', 'latency_ms'):
            cells.append(f'{value:.3f}' if key == 'params_m' else f'{value:.2f}')
        elif key == 'train_seconds':
            cells.append(f'{value:.0f}')
        else:
            cells.append(f'{value:.2f}')
    return cells


def write_tables(rows: List[List[str]], work_dir: Path, args: argparse.Namespace) -> str:
    header = [column for column, _ in TABLE_COLUMNS]
    table = io.StringIO(newline='')
    writer = csv.writer(table)
    writer.writerow(header)
    writer.writerows(rows)
    write_text(table.getvalue(), work_dir / 'benchmark.csv')
    protocol = 'resized to the base size' if args.resize_to_base else 'native resolution'
    lines = [f'{args.iters} training iterations per model; tested at {protocol}; '
             f'GMACs and latency at 1x3x{args.shape[0]}x{args.shape[1]}, batch 1, '
             f'{"CUDA" if torch.cuda.is_available() else "CPU"}.', '',
             '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    markdown = '\n'.join(lines) + '\n'
    write_text(markdown, work_dir / 'benchmark.md')
    return markdown


def read_columns(path: Path) -> Dict[str, List[float]]:
    with open(path, newline='') as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}


def plot_curves(names: List[str], work_dir: Path) -> Path:
    """Every model's target-level Pd-Fa and pixel precision-recall curve."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, (pdfa_axes, pr_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name in names:
        curves = work_dir / name / 'curves'
        if not (curves / 'irstd_sweep.csv').exists():
            continue
        sweep = read_columns(curves / 'irstd_sweep.csv')
        pixel = read_columns(curves / 'irstd_pixel_curves.csv')
        pdfa_axes.plot([fa * 1e6 for fa in sweep['Fa']], sweep['Pd'], marker='o',
                       markersize=3, label=name)
        pr_axes.plot(pixel['tpr'][1:], pixel['precision'][1:], label=name)
    pdfa_axes.set_xscale('symlog', linthresh=1)
    pdfa_axes.set(title='Target level: Pd vs Fa over thresholds', xlabel='Fa (x1e-6, symlog)',
                  ylabel='Pd (%)')
    pr_axes.set(title='Pixel precision-recall', xlabel='recall', ylabel='precision',
                xlim=(0, 1), ylim=(0, 1.01))
    for axes in (pdfa_axes, pr_axes):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    path = work_dir / 'benchmark_curves.png'
    picture = io.BytesIO()
    figure.savefig(picture, format='png', dpi=120)
    plt.close(figure)
    write_atomically(picture.getvalue(), path)
    return path


def output_problems(work_dir: Path, names: Sequence[str]) -> List[str]:
    """Every output path that is not absent or a regular file (a link, a folder,
    a device), and every model folder that is not a folder."""
    problems = []
    if work_dir.exists() and not work_dir.is_dir():
        return [f'--work-dir {work_dir} is not a folder']
    paths = [work_dir / output for output in WORK_DIR_OUTPUTS]
    for name in names:
        model_dir = work_dir / name
        if model_dir.exists() and not model_dir.is_dir():
            problems.append(f'{model_dir} is not a folder')
        paths += [work_dir / 'configs' / f'{name}.py']
        paths += [model_dir / output for output in MODEL_OUTPUTS]
    for path in paths:
        try:
            check_replaceable(path)
        except NotARegularFileError as error:
            problems.append(str(error))
    return problems


def setup_problems(args: argparse.Namespace) -> List[str]:
    """What would make a model fail at once, found before anything trains: a
    missing data root or config, a config (with --cfg-options) that does not
    build its model, an output path the tool must not replace."""
    problems = output_problems(Path(args.work_dir).resolve(), model_names(args.configs))
    if args.data_root and not osp.isdir(args.data_root):
        problems.append(f'--data-root {args.data_root}: no such folder')
    for config in args.configs:
        if not osp.isfile(config):
            problems.append(f'{config}: no such config')
            continue
        try:
            cfg = Config.fromfile(config)
            if args.cfg_options:
                cfg.merge_from_dict(args.cfg_options)
            init_default_scope(cfg.get('default_scope', 'mmseg'))
            MODELS.build(cfg.model)  # not on 'meta': some models read values while building
        except Exception as error:  # any build error names the config
            problems.append(f'{config}: the model does not build ({type(error).__name__}: '
                            f'{error})')
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    problems = setup_problems(args)
    if problems:
        print('error: nothing was trained:\n  ' + '\n  '.join(problems), file=sys.stderr)
        return 1
    work_dir = Path(args.work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    names = model_names(args.configs)
    rows, started, spent, failed = [], time.perf_counter(), [], []
    for index, (config, name) in enumerate(zip(args.configs, names)):
        eta = ''
        if spent:
            remaining = sum(spent) / len(spent) * (len(names) - index)
            eta = f', about {remaining / 60:.0f} min left for the rest'
        print(f'[{index + 1}/{len(names)}] {name}{eta}', flush=True)
        model_start = time.perf_counter()
        try:
            result = benchmark_one(config, work_dir / name, args)
        except ModelFailedError as error:
            print(f'  FAILED: {error}', flush=True)
            failed.append(name)
            rows.append([f'{name} (failed)'] + ['-'] * (len(TABLE_COLUMNS) - 1))
            continue
        spent.append(time.perf_counter() - model_start)
        rows.append(table_cells(name, result))
    print(write_tables(rows, work_dir, args))
    print(f'curves: {plot_curves(names, work_dir)}')
    print(f'total {time.perf_counter() - started:.0f} s; results in {work_dir}')
    if failed:
        print(f'error: {len(failed)} model(s) failed: {", ".join(failed)} (marked in the '
              'table; fix and rerun: finished models are not redone)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
