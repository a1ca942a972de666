#!/usr/bin/env bash
# Packs what a GPU host without network needs beside a copy of the repository (infra/gpu-host/run.sh
# uses it there) into .cache/gpu-host/, in parts that fit a transfer limit (BUDGET_MIB, 64 by
# default, less the repository's own files; PART_MIB sets the part size outright). Run it from the
# repository root after `npm run setup`, on linux x64:
#
#   bash infra/gpu-host/pack.sh [node] [modules] [wheels] [provider] [data]    (default: all five)
#
#   node      bin/node.xz: this machine's Node 20 binary, stripped (21 MiB)
#   modules   node_modules.tar.xz: the worker's production modules, tsx and sharp, linux x64 only
#             (module-closure.mjs lists them)
#   wheels    wheels/: the Python packages the importer needs beyond a PyTorch environment's
#             torch, onnx, onnxruntime, numpy and safetensors (diffusers, for the VAE decoder)
#   provider  provider.tar.xz.part-NN: onnxruntime-gpu's CUDA provider, the CUDA 13 build that
#             onnxruntime-node's binding loads (PROVIDER_WHEEL names a downloaded wheel; else pip
#             downloads it from PyPI); xz -9, 170 MiB of 272 MB (-9e saves 0.2% more)
#   data      data/*.xz: the training images (MNIST's training split, Fashion-MNIST; training_data.py)
#
# It ends with the files grouped into transfers, in the order a host uses them.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT="${KIT:-.cache/gpu-host}"
# What travels to a host in one transfer (64 MiB for this workplace's device machines) holds the
# repository's own files too: a part is the rest.
BUDGET_MIB="${BUDGET_MIB:-64}"
TREE_MIB="$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print int(s / 1048576) + 1 }')"
PART_MIB="${PART_MIB:-$((BUDGET_MIB - TREE_MIB - 1))}"
ONNXRUNTIME_VERSION=1.30.0
DIFFUSERS_VERSION="${DIFFUSERS_VERSION:-0.42.1}"
XZ=(xz -T0 "-${XZ_LEVEL:-6}")  # XZ_LEVEL=0: fast, for the offline-host test
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(node modules wheels provider data)
mkdir -p "$KIT"

pack_node() {
  local node; node="$(command -v node)"
  case "$(node -p 'process.versions.node')" in 20.*) ;; *) echo "pack.sh: Node 20 is needed, this is $(node --version)" >&2; exit 1 ;; esac
  [ "$(uname -m)" = x86_64 ] || { echo "pack.sh: the GPU host is x86-64; pack on one" >&2; exit 1; }
  # Anything beyond the C and C++ runtimes would have to exist on the host too.
  if ldd "$node" | grep -v -E 'linux-vdso|ld-linux|lib(c|m|dl|pthread|rt|stdc\+\+|gcc_s)\.so' | grep -q '=>'; then
    echo "pack.sh: $node links libraries a bare host may lack:" >&2; ldd "$node" >&2; exit 1
  fi
  mkdir -p "$KIT/bin"
  strip -o "$KIT/bin/node.tmp" "$node" 2>/dev/null || cp "$node" "$KIT/bin/node.tmp"
  "${XZ[@]}" -c "$KIT/bin/node.tmp" > "$KIT/bin/node.xz"
  rm "$KIT/bin/node.tmp"
}

pack_modules() {
  local list; list="$(node infra/gpu-host/module-closure.mjs)"
  # Other platforms' onnxruntime builds are most of the package; the host is linux x64.
  # shellcheck disable=SC2086
  tar -c --exclude='onnxruntime-node/bin/napi-v6/darwin' --exclude='onnxruntime-node/bin/napi-v6/win32' \
    --exclude='onnxruntime-node/bin/napi-v6/linux/arm64' --exclude='libonnxruntime_providers_*' $list \
    | "${XZ[@]}" > "$KIT/node_modules.tar.xz"
}

pack_wheels() {
  rm -rf "$KIT/wheels" && mkdir -p "$KIT/wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 -d "$KIT/wheels" "diffusers==$DIFFUSERS_VERSION" importlib_metadata
}

pack_provider() {
  local wheel="${PROVIDER_WHEEL:-}" tmp; tmp="$(mktemp -d)"
  if [ -z "$wheel" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 -d "$tmp" "onnxruntime-gpu==$ONNXRUNTIME_VERSION"
    wheel="$(ls "$tmp"/onnxruntime_gpu-*.whl)"
  fi
  unzip -q -j "$wheel" 'onnxruntime/capi/libonnxruntime_providers_cuda.so' 'onnxruntime/capi/libonnxruntime_providers_shared.so' -d "$tmp/provider"
  echo "NEEDED of libonnxruntime_providers_cuda.so:"
  readelf -d "$tmp/provider/libonnxruntime_providers_cuda.so" | grep NEEDED
  rm -f "$KIT"/provider.tar.xz.*
  tar -C "$tmp/provider" -c . | xz -T0 -9 > "$tmp/provider.tar.xz"
  split -b "${PART_MIB}M" -d "$tmp/provider.tar.xz" "$KIT/provider.tar.xz.part-"
  # run.sh checks the joined parts against this before it unpacks them: a part may be missing.
  (cd "$tmp" && sha256sum provider.tar.xz) > "$KIT/provider.tar.xz.sha256"
  rm -rf "$tmp"
}

pack_data() {
  python3 infra/gpu-host/training_data.py pack "$KIT/data"
}

for part in "${parts[@]}"; do
  case "$part" in
    node | modules | wheels | provider | data) echo "packing $part"; "pack_$part" ;;
    *) echo "pack.sh: unknown part '$part' (node, modules, wheels, provider, data)" >&2; exit 2 ;;
  esac
done

# The transfers, in the order a host uses them (Node, modules and wheels first: `run.sh stage` can
# start the imports while the provider's parts arrive), each within the per-transfer budget.
echo
echo "$KIT in transfers of at most $BUDGET_MIB MiB, the repository's $TREE_MIB MiB included in each:"
for file in "$KIT"/bin/node.xz "$KIT"/node_modules.tar.xz "$KIT"/wheels/*.whl "$KIT"/provider.tar.xz.part-* \
  "$KIT"/provider.tar.xz.sha256 "$KIT"/data/mnist-* "$KIT"/data/fashion-*; do
  if [ -f "$file" ]; then printf '%s %s\n' "$(stat -c %s "$file")" "$file"; fi
done | awk -v limit=$(((BUDGET_MIB - TREE_MIB) * 1048576)) '
    { if (used + $1 > limit && used > 0) { n++; used = 0 } used += $1; printf "  transfer %d  %6.1f MiB  %s\n", n + 1, $1 / 1048576, $2 }'
