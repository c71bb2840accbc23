#!/usr/bin/env bash
# Train SeRankDet and the three stock baselines on SIRST trainval for the same
# number of epochs (the reference recipe otherwise: AdamW 1e-4, poly decay, 512
# crops, batch 4, AMP when CUDA is there), test each last checkpoint on the 86
# test images at native resolution, and print one table.
#
#   tools/analysis_tools/sirst_fixed_budget.sh DATA_ROOT EPOCHS OUT_DIR [CONFIG ...]
#
# The warm-up is one epoch and the poly decay ends at EPOCHS, so every model
# sees the whole schedule shape in the shorter budget. Validation runs once,
# at the end. Per model: OUT_DIR/NAME/{train.log,test.log,metrics.json}.
# This is the command behind the README's GPU fixed-budget table (an epoch budget,
# the last checkpoint scored without a sweep). For new comparisons use
# tools/analysis_tools/benchmark_models.py: an iteration budget, resume, size and speed,
# curves, any data set.
# Environment: PYTHON (interpreter), WORKERS (data loader workers, 4),
# CFG_OPTIONS (extra --cfg-options for every model, space separated).
set -uo pipefail
cd "$(dirname "$0")/../.."
data_root=${1:?DATA_ROOT}
epochs=${2:?EPOCHS}
out_dir=${3:?OUT_DIR}
shift 3
configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
  configs=(configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py
           configs/baselines/unet-s5-d16_fcn_1xb4-1500e_sirst-512x512.py
           configs/baselines/deeplabv3plus_r18-d8_1xb4-1500e_sirst-512x512.py
           configs/baselines/segformer_mit-b0_1xb4-1500e_sirst-512x512.py)
fi
python=${PYTHON:-python3}
amp=$($python -c 'import torch; print("--amp" if torch.cuda.is_available() else "")')
workers=${WORKERS:-4}
mkdir -p "$out_dir"
for config in "${configs[@]}"; do
  name=$(basename "$config" .py)
  work="$out_dir/$name"
  mkdir -p "$work"
  options=(train_dataloader.dataset.data_root="$data_root"
           val_dataloader.dataset.data_root="$data_root"
           test_dataloader.dataset.data_root="$data_root"
           train_dataloader.num_workers="$workers" val_dataloader.num_workers="$workers"
           test_dataloader.num_workers="$workers"
           train_cfg.max_epochs="$epochs" train_cfg.val_interval="$epochs"
           param_scheduler.0.end=1 param_scheduler.1.begin=1 param_scheduler.1.end="$epochs"
           default_hooks.checkpoint.interval="$epochs" default_hooks.logger.interval=20
           ${CFG_OPTIONS:-})
  start=$(date +%s)
  $python tools/train.py "$config" $amp --work-dir "$work" \
    --cfg-options "${options[@]}" >"$work/train.log" 2>&1 || {
      echo "$name: training failed, see $work/train.log"; tail -20 "$work/train.log"; continue; }
  trained=$(( $(date +%s) - start ))
  $python tools/test.py "$config" "$work/epoch_$epochs.pth" --work-dir "$work/test" \
    --cfg-options "${options[@]}" >"$work/test.log" 2>&1 || {
      echo "$name: testing failed, see $work/test.log"; tail -20 "$work/test.log"; continue; }
  cp "$(ls "$work"/test/test_results/*_metrics.json | head -1)" "$work/metrics.json"
  echo "$trained" >"$work/train_seconds.txt"
  echo "$name: trained in ${trained}s"
done
$python - "$out_dir" "$epochs" <<'EOF'
import json, sys
from pathlib import Path
out, epochs = Path(sys.argv[1]), sys.argv[2]
keys = ['IRSTD/IoU', 'IRSTD/nIoU', 'IRSTD/Pd', 'IRSTD/Fa', 'IRSTD/F1']
print(f'\n| model ({epochs} epochs) | IoU | nIoU | Pd | Fa (x1e-6) | F1 | train s |')
print('|---|---|---|---|---|---|---|')
for work in sorted(p for p in out.iterdir() if (p / 'metrics.json').exists()):
    m = json.loads((work / 'metrics.json').read_text())['metrics']
    seconds = (work / 'train_seconds.txt').read_text().strip()
    cells = [f"{m[k] * 1e6:.2f}" if k == 'IRSTD/Fa' and m.get(k) is not None and m[k] < 1
             else (f"{m[k]:.2f}" if m.get(k) is not None else '-') for k in keys]
    print(f"| {work.name} | {' | '.join(cells)} | {seconds} |")
EOF
