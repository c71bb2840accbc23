"""Key renaming, completeness check and the command of every peer converter."""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import Tensor

from ..datasets.irstd_dataset import IRSTDDataset
from .authors import read_authors_state_dict
from .fitting import CHECKPOINT_ERRORS, checkpoint_error_message, fit_problems
from .peers import get_peer, repo_config
from .saving import check_replaceable, save_atomically

__all__ = ['check_complete', 'check_not_converted', 'rename_keys', 'run_converter',
           'same_file', 'shape_model']

# How many unmapped keys an error lists.
SHOWN_KEYS = 20

# One rule: a regular expression matched against the whole authors' key, and
# the template of our key (``\1``-style groups, as re.Match.expand).
KeyRule = Tuple[str, str]


def rename_keys(state: Dict[str, Tensor], rules: Sequence[KeyRule],
                network: str) -> 'OrderedDict[str, Tensor]':
    """Map every key of ``state`` with the first rule that matches it.

    Raises:
        KeyError: keys no rule maps, listed by name (with ``network``).
        ValueError: two keys map to one of ours.
    """
    compiled = [(re.compile(pattern), template) for pattern, template in rules]
    converted: OrderedDict[str, Tensor] = OrderedDict()
    unmapped: List[str] = []
    for key, value in state.items():
        for pattern, template in compiled:
            match = pattern.fullmatch(key)
            if match is not None:
                new_key = match.expand(template)
                if new_key in converted:
                    raise ValueError(f'two {network} keys map to {new_key} '
                                     f'(the second is {key})')
                converted[new_key] = value.detach().clone()
                break
        else:
            unmapped.append(key)
    if unmapped:
        more = (f' (and {len(unmapped) - SHOWN_KEYS} more)'
                if len(unmapped) > SHOWN_KEYS else '')
        raise KeyError(f'{len(unmapped)} keys are not {network} keys this converter '
                       f'knows: {", ".join(unmapped[:SHOWN_KEYS])}{more}')
    return converted


def shape_model(config: str, cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """The config's model on the meta device: shapes only, no memory or init.

    Built once per conversion and given to :func:`check_not_converted` and
    :func:`check_complete`."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope('mmseg')
    with torch.device('meta'):
        return MODELS.build(cfg.model)


def check_not_converted(state: Dict[str, Tensor], path: str, model: torch.nn.Module,
                        config: str) -> None:
    """Raise a ValueError saying so if ``state`` already is this project's
    checkpoint for ``config`` (converting it again would list every key as
    unknown)."""
    if not fit_problems(model, state):
        raise ValueError(f'already converted: it holds the weights of {config} in this '
                         f"project's names; use {path} directly (tools/test.py, "
                         'tools/infer.py, load_from)')


def check_complete(converted: Dict[str, Tensor], model: torch.nn.Module,
                   config: str) -> None:
    """Raise unless ``converted`` fills ``model`` (built from ``config``) exactly."""
    problems = fit_problems(model, converted)
    if problems:
        raise ValueError(f'the converted weights do not fill the model of {config} '
                         "(names are this project's): " + '; '.join(problems[:-1]))


def same_file(src: str, dst: str) -> bool:
    if osp.realpath(src) == osp.realpath(dst):
        return True
    return osp.exists(dst) and osp.samefile(src, dst)


def run_converter(name: str, argv: Optional[Sequence[str]] = None) -> int:
    """The command line of ``tools/model_converters/<name>2mmseg.py``."""
    peer = get_peer(name)
    parser = argparse.ArgumentParser(
        description=f'Convert a checkpoint of the authors\' {peer.title} code to '
        'an mmseg_serank checkpoint that loads strictly into its configs.')
    parser.add_argument('src', help="the authors' checkpoint (.pth, .pth.tar, .tar, .pkl)")
    parser.add_argument('dst', help='output checkpoint for mmseg_serank')
    parser.add_argument('--config', default=repo_config(peer.config),
                        help='config whose model the weights must fill (default: '
                        f'{peer.config})')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override the config, e.g. for a one-channel port: '
                        f'{peer.cfg_options_hint}' if peer.cfg_options_hint else
                        'override settings of the config')
    args = parser.parse_args(argv)
    if same_file(args.src, args.dst):
        print(f'error: DST {args.dst} is SRC {args.src}; converting in place would '
              'destroy the original. Give another output path.', file=sys.stderr)
        return 1
    try:
        check_replaceable(args.dst)
        source = read_authors_state_dict(args.src)
        model = shape_model(args.config, args.cfg_options)
        check_not_converted(source, args.src, model, args.config)
        converted = peer.convert(source)
        check_complete(converted, model, args.config)
    except CHECKPOINT_ERRORS as error:  # the message names the file, as in every tool
        print(f'error: {checkpoint_error_message(error)}', file=sys.stderr)
        return 1
    except (KeyError, ValueError, OSError) as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'error: {args.src}: {message}', file=sys.stderr)
        return 1
    meta = {'source': str(args.src), 'converter': f'tools/model_converters/{name}2mmseg.py',
            'network': peer.title, 'dataset_meta': dict(IRSTDDataset.METAINFO)}
    try:  # an earlier file at DST survives a failed or interrupted write
        save_atomically({'state_dict': converted, 'meta': meta}, args.dst)
    except OSError as error:
        print(f'error: cannot write {args.dst}: {error}', file=sys.stderr)
        return 1
    print(f'converted {len(converted)} tensors of {peer.title} -> {args.dst}')
    return 0
