#!/usr/bin/env bash
# The README's main job (`make demo`): make a synthetic IRSTD set, train a light
# SeRankDet on the CPU with the stock mmseg runner, test it with IRSTDMetric and
# keep the checkpoint, the threshold-sweep curves and --show-dir pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=data/synthetic_irstd
CONFIG=configs/serankdet/serankdet-lite8_1xb8-45e_synthetic-96x96.py
WORK=${WORK_DIR:-work_dirs/demo}

if [ ! -f "$DATA/splits/test.txt" ]; then
    "$PY" tools/misc/make_synthetic_dataset.py "$DATA" --num-train 160 --num-test 40 \
        --size 128 --seed 0
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
CHECKPOINT=$(ls -t "$WORK"/best_IRSTD_IoU_*.pth 2>/dev/null | head -n 1)
CHECKPOINT=${CHECKPOINT:-$WORK/epoch_45.pth}
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK/test" \
    --show-dir "$WORK/show" \
    --cfg-options test_evaluator.thresholds=50 test_evaluator.output_dir="$WORK/curves"
echo
echo "Checkpoint: $CHECKPOINT"
echo "Curves:     $WORK/curves"
echo "Pictures:   $WORK/show"
