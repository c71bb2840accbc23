"""Score an exported model (.onnx or OpenVINO .xml) on the config's test set.

Usage: python tools/deployment/test_deployed.py CONFIG MODEL
       [--backend onnxruntime|openvino] [--threshold T] [--out metrics.json]
       [--cfg-options ...]

The config's test dataloader loads each image as for tools/test.py; the backend
gives its target probability, and the config's test evaluator (IRSTDMetric)
scores it exactly as it scores the PyTorch model's ``seg_logits``, so the table
shows whether accuracy survived the export. The mask is the probability above
the config's one threshold, ``model.decode_head.threshold`` (``--threshold``
sets it, as for tools/test.py and tools/infer.py). ``--out`` also writes the scores
as JSON (refusing to overwrite an existing file); its folder is checked for
writing before the scoring, and the file is written atomically (a full disk
leaves no file behind). A model exported from another network or preprocessing
than CONFIG builds is refused (see tools/deployment/export_onnx.py). Ctrl-C stops
with exit status 130 and writes nothing.
"""
# ruff: noqa: E402  (the Ctrl-C handler is installed before the slow imports)
import os
import signal
import sys


def _interrupted_while_loading(*_) -> None:
    sys.stderr.write('\nerror: interrupted while loading; nothing was written\n')
    sys.stderr.flush()
    os._exit(130)


if __name__ == '__main__':
    signal.signal(signal.SIGINT, _interrupted_while_loading)

import argparse
import json
import re
import tempfile
from typing import Optional

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmseg_serank  # noqa: F401  (registers modules)
from mmseg_serank.checkpoint import check_replaceable, write_atomically
from mmseg_serank.deploy import BACKENDS, DeployedModelError, build_runner
from mmseg_serank.deploy.runners import one_line
from mmseg_serank.deploy.scoring import score_deployed
from mmseg_serank.evaluation.metrics import format_metrics_table
from mmseg_serank.thresholds import config_threshold, set_config_threshold

# PIL names the in-memory file it was given, not the image's path.
OBJECT_REPR = re.compile(r'<_io\.BytesIO object at 0x[0-9a-fA-F]+>')


def out_problem(out: str) -> Optional[str]:
    """Why ``out`` cannot be written (checked before the scoring), or None."""
    if os.path.lexists(out):
        return f'{out} exists; not overwriting it (remove it or choose another --out)'
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.exists(folder):
        return f'cannot write {out}: the folder {folder} does not exist'
    if not os.path.isdir(folder):
        return f'cannot write {out}: {folder} is not a folder'
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return (f'cannot write {out}: the folder {folder} is not writable '
                f'({error.strerror}); choose another --out')
    return None


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run()
    except KeyboardInterrupt:
        print('\nerror: interrupted; no scores were written', file=sys.stderr)
        return 130


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('model', help='exported .onnx (or OpenVINO .xml) file')
    parser.add_argument('--backend', choices=BACKENDS, default='onnxruntime')
    parser.add_argument('--threshold', type=float,
                        help='probability in [0, 1) above which a pixel is target: sets '
                             "model.decode_head.threshold (default: the config's)")
    parser.add_argument('--out', help='also write the scores to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    args = parser.parse_args()
    problem = out_problem(args.out) if args.out else None
    if problem:  # found before the scoring, not after
        print(f'error: {problem}', file=sys.stderr)
        return 1
    if not os.path.isfile(args.config):
        print(f'error: config {args.config} does not exist', file=sys.stderr)
        return 1

    try:
        cfg = Config.fromfile(args.config)
    except OSError as error:  # mmengine writes a temporary copy of each config file
        print(f'error: cannot load config {args.config}: {one_line(error)} (is the disk '
              'full?)', file=sys.stderr)
        return 1
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        if args.threshold is not None:
            set_config_threshold(cfg, args.threshold)
        config_threshold(cfg)
    except ValueError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        runner = build_runner(args.backend, args.model, cfg=cfg,
                              warn=lambda message: print(f'warning: {message}',
                                                         file=sys.stderr))
        metrics = score_deployed(cfg, runner)
    except (ImportError, DeployedModelError, OSError, ValueError) as error:
        message = OBJECT_REPR.sub('the file', one_line(error))
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(f'{args.model} ({args.backend}) on {cfg.test_dataloader.dataset.get("data_root")}:')
    print(format_metrics_table(metrics))
    if args.out:
        record = dict(config=args.config, model=args.model, backend=args.backend,
                      metrics={key: float(value) for key, value in metrics.items()})
        try:
            if os.path.lexists(args.out):
                raise FileExistsError(f'{args.out} appeared during the scoring; not '
                                      'overwriting it')
            check_replaceable(args.out)
            write_atomically(json.dumps(record, indent=2).encode(), args.out)
        except OSError as error:
            print(f'error: cannot write {args.out}: {one_line(error)} (the scores are above; '
                  'nothing was written)', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
