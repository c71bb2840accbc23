"""Pictures of a dataset's samples after its pipeline (augmentation included)."""
import argparse
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmseg.registry import DATASETS, VISUALIZERS

import mmseg_serank  # noqa: F401  (registers the modules)
from mmseg_serank.utils.cli import add_cfg_options, load_config, parse
from mmseg_serank.visualization import prepare_picture_dir


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='tools/misc/browse_dataset.py',
                                     description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                        help='which dataloader\'s dataset (default train, as mmseg)')
    parser.add_argument('--output-dir', help='write one <image name>.png per sample here')
    parser.add_argument('--show', action='store_true', help='open a window per sample')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds per window with --show')
    parser.add_argument('--max-samples', type=int, default=0,
                        help='stop after this many samples (0: all)')
    add_cfg_options(parser)
    args = parse(parser, argv)
    if not (args.output_dir or args.show):
        parser.error('give --output-dir, --show or both')
    cfg = load_config(args.config, args.cfg_options)
    if args.output_dir:
        prepare_picture_dir(args.output_dir)

    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    count = len(dataset) if args.max_samples <= 0 else min(args.max_samples, len(dataset))
    for index in range(count):
        item = dataset[index]
        sample = item['data_samples']
        stem = osp.splitext(osp.basename(sample.img_path))[0]
        # CHW BGR tensor -> HWC RGB; contiguous, since OpenCV cannot draw on the
        # strided view mmseg's browse_dataset.py passes.
        image = np.ascontiguousarray(item['inputs'].permute(1, 2, 0).numpy()[..., ::-1])
        out_file = osp.join(args.output_dir, f'{stem}.png') if args.output_dir else None
        visualizer.add_datasample(stem, image, sample, show=args.show,
                                  wait_time=args.show_interval, out_file=out_file)
    print(f'{count} sample(s) of {args.split} drawn'
          + (f' to {args.output_dir}' if args.output_dir else ''))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
