#!/usr/bin/env bash
# The README's real-SIRST CPU comparison, one command: SeRankDet at base width 16
# against three stock mmseg models (UNet-S5-D16 at base width 16, DeepLabV3+ R18,
# SegFormer MiT-B0), each trained 1000 iterations of 4 crops of 256x256 (about 12
# epochs of the 341 trainval images) and tested on the 86 test images at native
# resolution, through tools/analysis/benchmark_models.py (same budget, resume,
# table and curves).
#
#   tools/analysis/sirst_cpu_comparison.sh [SIRST_ROOT] [WORK_DIR]
#
# SIRST_ROOT: the original release (images/, masks/, idx_427/), default
# ../shared/data/sirst; WORK_DIR: default work_dirs/sirst_cpu. Results:
# WORK_DIR/benchmark.{md,csv} and WORK_DIR/benchmark_curves.png. About an hour on
# 2 CPU cores. Environment: PYTHON (interpreter, default python3), ITERS (budget, 1000).
set -euo pipefail
cd "$(dirname "$0")/../.."
data_root=${1:-../shared/data/sirst}
work_dir=${2:-work_dirs/sirst_cpu}
exec "${PYTHON:-python3}" tools/analysis/benchmark_models.py \
    configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py \
    configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py \
    configs/baselines/deeplabv3plus_r18-d8_1xb4-1k_sirst-256x256.py \
    configs/baselines/segformer_mit-b0_1xb4-1k_sirst-256x256.py \
    --work-dir "$work_dir" --iters "${ITERS:-1000}" --data-root "$data_root"
