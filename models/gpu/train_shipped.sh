#!/usr/bin/env bash
# Trains the shipped models on one GPU machine in one pass, from the repository root:
#   - unless AB=0, the endpoint A/B at equal steps (the mnist-cpu network, four variants);
#   - imf-mnist (preset mnist-gpu) and imf-fashion (preset folder-gpu through --data, on the
#     Fashion-MNIST folder that imf.data.fashion_folder writes), each for TRAIN_MINUTES of wall time.
# The data travel as .cache/gpu-host/data/ (`bash infra/gpu-host/pack.sh data` makes it); results
# go to $OUT as one tar split into 15 MiB parts (EMA weights only, logs, configs).
set -uo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
TRAIN_MINUTES="${TRAIN_MINUTES:-6}"
OUT="${OUT:-/tmp/imf-out}"
ROOT="$(pwd)"
DATA=/tmp/imf-data/node_modules
RUNS=/tmp/imf-runs
mkdir -p "$RUNS" "$OUT"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader

python3 infra/gpu-host/training_data.py unpack .cache/gpu-host/data "$DATA" || exit 1
export IMF_NODE_MODULES="$DATA"
START=$(date +%s)
cd models

train() {  # name, args...: every run stops TRAIN_MINUTES after the script started
  local name="$1"; shift
  local left=$(python3 -c "print(max(0.5, $TRAIN_MINUTES - ($(date +%s) - $START) / 60))")
  python3 -m imf.training.train "$@" ${EXTRA:-} --out "$RUNS/$name" --time-limit-minutes "$left" \
    > "$RUNS/$name.log" 2>&1 &
}
AB_ARGS=(--preset mnist-cpu --set steps=3200 --set device=cuda --set bf16=false --set threads=1
    --set keep_snapshots= --set checkpoint_every=400)
if [ "${AB:-1}" = 1 ]; then
  train ab-official "${AB_ARGS[@]}"
  train ab-mf-pixel "${AB_ARGS[@]}" --set p_mean=-2.0 --set p_std=2.0 --set flow_matching_share=0.25
  train ab-endpoint "${AB_ARGS[@]}" --set endpoint_share=0.1
  train ab-deep-heads "${AB_ARGS[@]}" --set model.shared_depth=2 --set model.head_depth=3
fi
train imf-mnist --preset mnist-gpu --set threads=2

python3 -m imf.data.fashion_folder --out /tmp/fashion-mnist || exit 1
train imf-fashion --preset folder-gpu --data /tmp/fashion-mnist --resolution 28 --channels 1 \
  --set threads=2
sleep 20; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
wait
for log in "$RUNS"/*.log; do echo "== $log"; grep -v '^\[' "$log" | tail -3; tail -c 300 "$log"; echo; done

# EMA weights only: what evaluation and export read
python3 - "$RUNS" <<'PY'
import sys
from pathlib import Path
from imf.training import checkpoint as ckpt
runs = Path(sys.argv[1])
for last in sorted(runs.glob("*/last.safetensors")):
    ckpt.ema_only(last, last.with_name("ema.safetensors"))
    print(last.parent.name, "step", ckpt.load(last).step)
PY
cd "$RUNS" && tar cf /tmp/results.tar */ema.safetensors */log.jsonl */config.json *.log
split -b 15M -d /tmp/results.tar "$OUT/results.tar.part-"
ls -la "$OUT"
