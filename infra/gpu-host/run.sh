#!/usr/bin/env bash
# On a GPU host without network: a copy of the repository with .cache/gpu-host/ beside its files
# (infra/gpu-host/pack.sh wrote it), an NVIDIA driver for CUDA 13 and a Python 3 environment whose
# `python3` holds PyTorch with its nvidia-* CUDA 13 wheels, onnx and onnxruntime. No Node needed.
# From the repository root:
#
#   bash infra/gpu-host/run.sh stage [SIZE:PRECISION ...]  unpack what has arrived; start those
#                                                          imports (B/2:fp32, XL/2:fp16, tiny:fp32) in the
#                                                          background, into .cache/gpu-host/models/
#   bash infra/gpu-host/run.sh check [gpu:check flags]     the CUDA path (test/gpu-check/gpu-check.mts);
#                                                          --model .cache/gpu-host/models/b2-fp32/imf-check-b2-fp32
#                                                          serves a staged import
#   bash infra/gpu-host/run.sh train [train_timed flags]   timed GPU training (models/gpu/train_timed.py)
#
# Each unpacks what it needs from the kit once (safe to rerun: the parts may arrive one transfer at
# a time, and `stage` can run after each) and fails with what is missing. `check --provider cpu`
# needs no CUDA provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
KIT="$ROOT/.cache/gpu-host"
BINDING=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
PYTHON="${PYTHON:-$(command -v python3)}"

fail() { echo "gpu-host: $*" >&2; exit 1; }

# xz -dc, or Python's lzma where a host has no xz.
unxz() {
  if command -v xz > /dev/null; then xz -dc "$@"
  else "$PYTHON" -c 'import lzma, shutil, sys
for name in sys.argv[1:] or ["-"]:
    with lzma.open(sys.stdin.buffer if name == "-" else name) as f: shutil.copyfileobj(f, sys.stdout.buffer)' "$@"; fi
}

# Node from the kit, unless this host has a Node 20 of its own.
use_node() {
  if ! { command -v node >/dev/null && node -p 'process.versions.node' | grep -q '^20\.'; }; then
    if [ ! -x "$KIT/bin/node" ]; then
      [ -f "$KIT/bin/node.xz" ] || fail "no Node 20 on this host and no $KIT/bin/node.xz (pack.sh node)"
      unxz "$KIT/bin/node.xz" > "$KIT/bin/node.tmp" && chmod +x "$KIT/bin/node.tmp" && mv "$KIT/bin/node.tmp" "$KIT/bin/node"
    fi
    export PATH="$KIT/bin:$PATH"
  fi
  echo "node $(node --version) at $(command -v node)"
}

# node_modules from the kit where the copy has none (a stamp says which kit it came from).
use_modules() {
  if [ ! -f node_modules/.gpu-host-kit ]; then
    [ -f "$KIT/node_modules.tar.xz" ] || fail "no node_modules here and no $KIT/node_modules.tar.xz (pack.sh modules)"
    unxz "$KIT/node_modules.tar.xz" | tar -x
    date -u +%FT%TZ > node_modules/.gpu-host-kit
  fi
}

# .venv/bin/python, which the repository's commands call, as this host's python3 plus the kit's wheels.
use_python() {
  local site="$KIT/site"
  if [ -d "$KIT/wheels" ] && [ ! -f "$site/.installed" ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$KIT"/wheels/*.whl
    touch "$site/.installed"
  fi
  if [ ! -e .venv/bin/python ] || grep -q 'gpu-host' .venv/bin/python 2>/dev/null; then
    mkdir -p .venv/bin
    printf '#!/bin/sh\n# gpu-host: this host'"'"'s python3 with the kit'"'"'s wheels (infra/gpu-host/run.sh)\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec "%s" "$@"\n' "$site" "$PYTHON" > .venv/bin/python
    chmod +x .venv/bin/python
  fi
}

# Whether every part of the provider is here: their joined bytes match the hash pack.sh wrote.
provider_complete() {
  local parts=("$KIT"/provider.tar.xz.part-*)
  [ -f "$KIT/provider.tar.xz.sha256" ] && [ -f "${parts[0]}" ] || return 1
  [ "$(cat "${parts[@]}" | sha256sum | cut -d' ' -f1)" = "$(cut -d' ' -f1 "$KIT/provider.tar.xz.sha256")" ]
}

# The CUDA provider beside the binding, and the CUDA 13 libraries of the PyTorch environment on the
# library path; fails when the provider would not load.
use_cuda() {
  if [ ! -f "$BINDING/libonnxruntime_providers_cuda.so" ]; then
    provider_complete || fail "no CUDA provider in $BINDING, and its parts in $KIT are incomplete (pack.sh provider)"
    cat "$KIT"/provider.tar.xz.part-* | unxz | tar -x -C "$BINDING"
  fi
  local libs
  libs="$("$PYTHON" -c 'import os, site, sys
dirs = set()
for base in site.getsitepackages():
    for root, _, files in os.walk(os.path.join(base, "nvidia")):
        if any(".so" in f for f in files): dirs.add(root)
print(":".join(sorted(dirs)))')"
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local missing
  missing="$(ldd "$BINDING/libonnxruntime_providers_cuda.so" | grep 'not found' || true)"
  [ -z "$missing" ] || fail "the CUDA provider's libraries are missing:
$missing"
  # cuDNN is opened when the provider starts, not linked.
  printf '%s' "$LD_LIBRARY_PATH" | tr ':' '\n' | while read -r dir; do ls "$dir"/libcudnn.so.9 2>/dev/null; done | grep -q . \
    || ldconfig -p 2>/dev/null | grep -q 'libcudnn.so.9' || fail "cuDNN 9 (libcudnn.so.9) is not on the library path"
  echo "CUDA provider: every NEEDED library found; cuDNN 9 found"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
}

# Staged imports still running are waited for; one that ended without its model fails the check.
wait_for_imports() {
  local pidfile log
  for pidfile in "$KIT"/models/*.pid; do
    [ -f "$pidfile" ] || continue
    log="${pidfile%.pid}.log"
    while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 2; done
    grep -q '^imported' "$log" || fail "the staged import $(basename "${pidfile%.pid}") failed:
$(tail -n 20 "$log")"
  done
}

# The training images that came, laid out as the npm packages lay them out, for IMF_NODE_MODULES.
use_training_data() {
  [ -d "$KIT/data" ] || fail "no $KIT/data (pack.sh data)"
  export IMF_NODE_MODULES="$KIT/modules-data"
  "$PYTHON" infra/gpu-host/training_data.py unpack "$KIT/data" "$IMF_NODE_MODULES"
}

command="${1:-}"
shift || true
case "$command" in
  stage)
    use_node; use_modules; use_python
    if [ -f "$BINDING/libonnxruntime_providers_cuda.so" ] || provider_complete; then use_cuda
    else echo "CUDA provider: $(ls "$KIT"/provider.tar.xz.part-* 2>/dev/null | wc -l) part(s) here, not yet complete"; fi
    for spec in "$@"; do
      size="${spec%%:*}" precision="${spec#*:}"
      name="$(printf '%s' "$size" | tr '[:upper:]' '[:lower:]' | tr -d /)-$precision"
      if [ "$size" = tiny ]; then model=(--tiny); else model=(--size "$size"); fi
      mkdir -p "$KIT/models/$name"
      # A session of its own, so the import outlives this command on a host that ends its processes.
      setsid node --import tsx test/gpu-check/gpu-check.mts "${model[@]}" --precision "$precision" \
        --import-to "$KIT/models/$name/imf-check-$name" > "$KIT/models/$name.log" 2>&1 < /dev/null &
      echo $! > "$KIT/models/$name.pid"
      echo "importing $size $precision in the background: $KIT/models/$name.log"
    done
    for log in "$KIT"/models/*.log; do [ -f "$log" ] && echo "$(basename "$log"): $(tail -n 1 "$log")"; done
    exit 0
    ;;
  check)
    use_node; use_modules; use_python
    wait_for_imports
    provider=cuda
    for ((i = 1; i <= $#; i++)); do
      case "${!i}" in
        --provider) j=$((i + 1)); provider="${!j:-}" ;;
        --provider=*) provider="${!i#--provider=}" ;;
      esac
    done
    [ "$provider" = cpu ] || use_cuda
    exec node --import tsx test/gpu-check/gpu-check.mts "$@"
    ;;
  train)
    use_python; use_training_data
    cd models && PYTHONPATH=. OMP_WAIT_POLICY=PASSIVE exec ../.venv/bin/python gpu/train_timed.py "$@"
    ;;
  *) fail "usage: run.sh stage|check|train …" ;;
esac
