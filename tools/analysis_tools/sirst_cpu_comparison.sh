#!/usr/bin/env bash
# The README's real-SIRST CPU comparison, one command: SeRankDet at base width 16
# against the IRSTD field's own networks at their authors' default sizes (ACM,
# RDIAN, DNANet, MSHNet, SCTransNet, UIU-Net) and three stock mmseg models
# (UNet-S5-D16 at base width 16, DeepLabV3+ R18, SegFormer MiT-B0), each trained
# 1000 iterations of 4 crops of 256x256 (about 12 epochs of the 341 trainval
# images) and tested on the 86 test images at native resolution, through
# tools/analysis_tools/benchmark_models.py (same budget, resume, table and curves; a
# model that fails is marked in the table and the others go on).
#
#   tools/analysis_tools/sirst_cpu_comparison.sh [SIRST_ROOT] [WORK_DIR] [CONFIG ...]
#
# SIRST_ROOT: the original release (images/, masks/, idx_427/), default
# ../shared/data/sirst; WORK_DIR: default work_dirs/sirst_cpu; CONFIGs: a subset
# (default: all ten). Results: WORK_DIR/benchmark.{md,csv} and
# WORK_DIR/benchmark_curves.png. On 2 CPU cores the four original models took an
# hour; UIU-Net (50 M parameters) alone took 127 minutes. Environment:
# PYTHON (interpreter, default python3), ITERS (budget, 1000).
set -euo pipefail
cd "$(dirname "$0")/../.."
data_root=${1:-../shared/data/sirst}
work_dir=${2:-work_dirs/sirst_cpu}
shift $(( $# < 2 ? $# : 2 ))
configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
    configs=(
        configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py
        configs/acm/acm_1xb4-1k_sirst-256x256.py
        configs/rdian/rdian_1xb4-1k_sirst-256x256.py
        configs/dnanet/dnanet_1xb4-1k_sirst-256x256.py
        configs/mshnet/mshnet_1xb4-1k_sirst-256x256.py
        configs/sctransnet/sctransnet_1xb4-1k_sirst-256x256.py
        configs/uiunet/uiunet_1xb4-1k_sirst-256x256.py
        configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py
        configs/baselines/deeplabv3plus_r18-d8_1xb4-1k_sirst-256x256.py
        configs/baselines/segformer_mit-b0_1xb4-1k_sirst-256x256.py
    )
fi
exec "${PYTHON:-python3}" tools/analysis_tools/benchmark_models.py "${configs[@]}" \
    --work-dir "$work_dir" --iters "${ITERS:-1000}" --data-root "$data_root"
