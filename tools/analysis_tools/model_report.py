"""Parameters, multiply-adds and CPU latency of a SeRankDet config.

Usage: python tools/analysis_tools/model_report.py CONFIG [--shape H W] [--runs N]
       [--base-channels C] [--threads T]

MACs are counted by ``mmengine.analysis.get_model_complexity_info`` (a traced
operator count where one multiply-add counts once; its "flops" are MACs) on
the inference path (fused output only). Latency is the median of N timed
forwards after one warm-up, batch 1, in eval form and in deploy form (CDC and
BN folded, see tools/deployment/reparameterize.py).
"""
import argparse
import copy
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers SeRankDet)
from mmseg_serank.deploy.reparameterize import deploy_differences, switch_to_deploy
from mmseg_serank.utils.model_cost import count_macs, median_latency


def build_model(config: str, base_channels: int = 0) -> torch.nn.Module:
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if base_channels:
        cfg.model.backbone.base_channels = base_channels  # the head follows
    return MODELS.build(cfg.model).eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=(512, 512),
                        metavar=('H', 'W'))
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--base-channels', type=int, default=0,
                        help='override the width (e.g. 16 for a light variant)')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch CPU threads (0 keeps the default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = build_model(args.config, args.base_channels)
    deployed = switch_to_deploy(copy.deepcopy(model))
    inputs = torch.randn(1, 3, *args.shape)
    differences = deploy_differences(model, deployed, inputs)
    rows = []
    for name, variant in (('eval', model), ('deploy', deployed)):
        params = sum(p.numel() for p in variant.parameters())
        rows.append((name, params / 1e6, count_macs(variant, inputs) / 1e9,
                     1e3 * median_latency(variant, inputs, args.runs)))
    width = model.backbone.widths[0]
    print(f'{osp.basename(args.config)}  base_channels={width}  input 1x3x'
          f'{args.shape[0]}x{args.shape[1]}  threads={torch.get_num_threads()}  '
          f'runs={args.runs}')
    print(f'{"form":8}{"params (M)":>12}{"GMACs":>10}{"latency (ms)":>15}')
    for name, params, gmacs, latency in rows:
        print(f'{name:8}{params:12.3f}{gmacs:10.2f}{latency:15.1f}')
    print(f'deploy/eval latency ratio: {rows[1][3] / rows[0][3]:.3f} '
          f'(speed-up {rows[0][3] / rows[1][3]:.2f}x)')
    print(f'eval vs deploy max abs diff: end-to-end {differences["end_to_end"]:.2e} '
          f'({differences["flips"]} stages with top-K flips), teacher-forced '
          f'{differences["teacher_forced"]:.2e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
