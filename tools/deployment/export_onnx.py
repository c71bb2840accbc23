"""Export a SeRankDet or IRSTD peer checkpoint to one verified ONNX file for any image size.

Usage: python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx
       [--tolerance 1e-4] [--opset 17] [--check-sizes 1x512x512 ...]
       [--cfg-options KEY=VALUE ...]

The file holds the deploy form (CDCs and BNs folded; the peer networks, which
have none, as trained) with the data preprocessor inside: input ``image``,
float32 N x 3 x H x W raw pixel values in the channel order the config's data
preprocessor receives (BGR as the project's loaders give it; the grey
conversion, the flip to RGB and the normalisation are in the graph); outputs
``probability``, float32 N x 1 x H x W, the sigmoid of the predicted map at
the input size, and ``logit``, the map itself (the runners average it
over windows to tile large images). Batch, height and width are dynamic (any
H, W >= 1).

Before the file is written, ONNX Runtime runs it at several sizes (the traced
64x96, 33x47 and 200x136 which are not multiples of 16, a batch of two, and
96x352 which is larger than the traced size; --check-sizes adds more) and it
is compared with the PyTorch deploy form in two ways: every module (encoder
block, SeRank attention, decoder) fed ONNX Runtime's own intermediate values
must agree within --tolerance, and so must the probabilities end to end unless
a top-K "flip" happened (two values at a channel's K-th rank within float
rounding of each other, ordered the other way by ONNX Runtime's rounding: both
selections are valid and the outputs legitimately differ; it is reported).
Otherwise the tool exits 1 and writes nothing. The file is written atomically. Checkpoints of
tools/deployment/reparameterize.py (deploy form already) are accepted too.

The file's metadata names the model it came from (network types, input
channels, grey flag, normalisation, channel flip, threshold and a digest of the
network's config), so tools/deployment/test_deployed.py and tools/infer.py refuse
it with a config that builds another model. Ctrl-C stops the export with exit
status 130 and leaves no file.
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
from typing import Tuple

from mmengine.config import DictAction

from mmseg_serank.checkpoint import (
    CHECKPOINT_ERRORS,
    check_replaceable,
    checkpoint_error_message,
)
from mmseg_serank.deploy.export import (
    CHECK_SIZES,
    OPSET,
    ProbabilityModel,
    TorchRunner,
    check_sizes_images,
    exportable_config,
    load_segmentor,
    max_differences,
    model_identity,
    write_verified_onnx,
)
from mmseg_serank.utils.cli import error_line


def nhw_size(text: str) -> Tuple[int, int, int]:
    """'NxHxW' (e.g. 1x512x512) as a tuple of three positive integers."""
    parts = text.lower().split('x')
    if len(parts) != 3 or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(f'{text!r} is not NxHxW with positive integers')
    return tuple(int(part) for part in parts)


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return export(parse_args())
    except KeyboardInterrupt:
        print('\nerror: interrupted; the export was stopped and no file was written',
              file=sys.stderr)
        return 130


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='max abs probability difference to PyTorch (default 1e-4)')
    parser.add_argument('--opset', type=int, default=OPSET,
                        help=f'ONNX opset (default {OPSET})')
    parser.add_argument('--check-sizes', nargs='+', type=nhw_size, default=[],
                        metavar='NxHxW', help='more sizes to check, e.g. 1x512x512')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    return parser.parse_args()


def export(args: argparse.Namespace) -> int:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f'error: {error}; install the deploy extras: pip install -e .[deploy]',
              file=sys.stderr)
        return 1
    try:
        check_replaceable(args.out)
        model, deployed = load_segmentor(args.config, args.checkpoint, args.cfg_options)
        wrapped = ProbabilityModel(deployed).eval()
        identity = model_identity(exportable_config(args.config, args.cfg_options), wrapped)
        results = write_verified_onnx(wrapped, args.out, args.tolerance,
                                      sizes=CHECK_SIZES + tuple(args.check_sizes),
                                      opset=args.opset, metadata=identity)
    except CHECKPOINT_ERRORS as error:  # the one answer every tool gives for the file
        print(f'error: {checkpoint_error_message(error)}', file=sys.stderr)
        return 1
    except (ValueError, OSError) as error:
        print(f'error: {error_line(error)}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} (opset {args.opset}, dynamic batch/height/width)')
    ranked = hasattr(wrapped.backbone, 'rank_attentions')
    print('check with ONNX Runtime against the PyTorch '
          f'{"deploy form" if model is not deployed else "model"}, per NxHxW:')
    for size, result in results.items():
        if not ranked:  # no top-K selection: the graph is continuous
            print(f'  {size}: max abs probability difference {result["difference"]:.2e}; '
                  f'logits (relative): {result["forced_error"]:.1e}')
            continue
        flip = (f'top-K flip at stage {result["flip_stage"]}: float rounding swapped two '
                'near-equal values, so the outputs legitimately differ'
                if result['flip_stage'] else 'no top-K flip')
        print(f'  {size}: max abs probability difference {result["difference"]:.2e} '
              f'({flip}); every module fed ONNX Runtime\'s inputs: '
              f'{result["forced_error"]:.1e}')
    if model is not None and model is not deployed:
        eval_form = ProbabilityModel(model).eval()
        images = check_sizes_images([(1, 64, 96)])
        folded = max_differences(TorchRunner(eval_form), TorchRunner(wrapped), images)
        print(f'(deploy vs eval form in PyTorch at 64x96: {folded["1x64x96"]:.2e})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
