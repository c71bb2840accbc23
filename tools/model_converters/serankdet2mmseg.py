"""Convert a checkpoint of the official SeRankDet code (GrokCV/SeRankDet) to ours.

Usage: python tools/model_converters/serankdet2mmseg.py SRC DST [--config CONFIG]

SRC is what the reference's ``utils/tools.py:save_model`` writes: a dict with
``'state_dict'`` (keys ``decode_head.<Module>...``, saved from the unwrapped
model) next to ``epoch``, ``optimizer`` and lists of numpy losses and scores;
a bare state dict and ``module.`` (DataParallel/DDP) prefixes are accepted
too. SRC is read with the plugin's allow-listed loader (tensors, numbers,
containers, numpy arrays and scalars), so a crafted file cannot run code.

Every key must map; unmapped keys are an error (the mapping is
``mmseg_serank/checkpoint/serankdet.py``). The reference's fixed
positional tables (``max_channelN.pos_enc.pos_enc``) are checked against the
analytic formula our SeRank attention evaluates and then dropped: they are
not parameters of our model. The result must fill the model of CONFIG (the
reference width by default) exactly: a missing key or a tensor of the wrong
shape is an error. DST (never SRC itself) is written atomically as an
mmengine-style ``{'state_dict': ..., 'meta': ...}`` holding only tensors,
strings and numbers, with the IRSTD ``dataset_meta``, so it loads with
``torch.load(..., weights_only=True)``.
"""
import argparse
import os.path as osp
import sys

import mmseg_serank  # noqa: F401  (registers SeRankDet)
from mmseg_serank.checkpoint import (
    CHECKPOINT_ERRORS,
    check_replaceable,
    checkpoint_error_message,
    save_atomically,
)
from mmseg_serank.checkpoint.conversion import (
    check_complete,
    check_not_converted,
    same_file,
    shape_model,
)
from mmseg_serank.checkpoint.serankdet import convert_state_dict, load_source
from mmseg_serank.datasets.irstd_dataset import IRSTDDataset

# The model at the reference's width (base 64), which the authors' files fill.
REFERENCE_MODEL_CONFIG = osp.normpath(osp.join(osp.dirname(osp.abspath(__file__)), '..', '..',
                                               'configs', '_base_', 'models', 'serankdet.py'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official SeRankDet checkpoint')
    parser.add_argument('dst', help='output checkpoint for mmseg_serank')
    parser.add_argument('--config', default=REFERENCE_MODEL_CONFIG,
                        help='config whose model the weights must fill '
                             '(default: the reference width)')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        print(f'error: {args.src}: no such file', file=sys.stderr)
        return 1
    if same_file(args.src, args.dst):
        print(f'error: DST {args.dst} is SRC {args.src}; converting in place would '
              'destroy the original. Give another output path.', file=sys.stderr)
        return 1
    try:
        check_replaceable(args.dst)
        source = load_source(args.src)
        model = shape_model(args.config)
        check_not_converted(source, args.src, model, args.config)
        converted, dropped = convert_state_dict(source)
        check_complete(converted, model, args.config)
    except CHECKPOINT_ERRORS as error:  # the message names the file, as in every tool
        print(f'error: {checkpoint_error_message(error)}', file=sys.stderr)
        return 1
    except (KeyError, ValueError, OSError) as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'error: {args.src}: {message}', file=sys.stderr)
        return 1
    meta = {'source': str(args.src), 'converter': 'tools/model_converters/serankdet2mmseg.py',
            'dropped_keys': dropped, 'dataset_meta': dict(IRSTDDataset.METAINFO)}
    try:  # an earlier file at DST survives a failed or interrupted write
        save_atomically({'state_dict': converted, 'meta': meta}, args.dst)
    except OSError as error:
        print(f'error: cannot write {args.dst}: {error}', file=sys.stderr)
        return 1
    print(f'converted {len(converted)} tensors, dropped {len(dropped)} positional '
          f'tables -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
