"""FLOPs (multiply-adds, mmengine's counter) and parameters of a config's model."""
import argparse
from typing import Optional, Sequence

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.analysis.print_helper import _format_size
from mmengine.model import revert_sync_batchnorm
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_serank  # noqa: F401  (registers the modules)
from mmseg_serank.utils.cli import add_cfg_options, load_config, parse


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='tools/analysis_tools/get_flops.py',
                                     description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+', default=[512, 512],
                        help='input height [width] (default 512 512)')
    add_cfg_options(parser)
    args = parse(parser, argv)
    if len(args.shape) not in (1, 2):
        parser.error(f'--shape takes H or H W, got {args.shape}')
    if min(args.shape) < 1:
        parser.exit(1, f'error: --shape must be >= 1 (height [width] in pixels), got '
                       f'{" ".join(map(str, args.shape))}\n')
    height, width = (args.shape * 2)[:2]
    cfg = load_config(args.config, args.cfg_options)

    model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    if getattr(model, 'auxiliary_head', None) is not None:
        model.auxiliary_head = None  # training only, as in mmseg's script
    sample = SegDataSample(metainfo=dict(ori_shape=(height, width)))
    data = model.data_preprocessor(
        dict(inputs=[torch.rand(3, height, width) * 255], data_samples=[sample]))
    inputs = data['inputs']
    with torch.no_grad():
        # Only `inputs`: mmengine >= 0.10 refuses `input_shape` given with it, which
        # is what mmseg 1.2.2's get_flops.py does.
        info = get_model_complexity_info(model, inputs=(inputs, ), show_table=False,
                                         show_arch=False)
    line = '=' * 30
    print(f'{line}\nInput shape: {tuple(inputs.shape[1:])}\n'
          f'Flops: {_format_size(info["flops"])}\nParams: {_format_size(info["params"])}\n'
          f'{line}\nmmengine counts the multiply-adds of convolutions and linear layers; '
          'operators it does not know (e.g. top-k, sort) are not counted.')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
