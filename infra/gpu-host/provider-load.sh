#!/usr/bin/env bash
# Does the kit's CUDA provider load into onnxruntime-node's own core? Checked without a GPU, where
# there is network, after `pack.sh provider`:
#
#   bash infra/gpu-host/provider-load.sh
#
# It lays the binding folder of onnxruntime-node beside the kit's provider, puts the CUDA 13
# runtime, cuBLAS and cuRAND from PyPI on the library path (the same libraries a PyTorch
# environment's nvidia-* wheels hold), and a stand-in for the driver's libcuda.so.1 that defines the
# one symbol the provider takes from it (`nm -D --undefined-only`) and no device. Then it asks for a
# session on the CUDA provider. Passes when the provider bridge loads the library and creates the
# execution provider, which then fails at cudaSetDevice (no driver): what a mismatch between the
# two builds would stop before. Fails on any other error.
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=.cache/gpu-host
BINDING=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

parts=("$KIT"/provider.tar.xz.part-*)
[ -f "${parts[0]}" ] || { echo "provider-load: no $KIT/provider.tar.xz.part-* (pack.sh provider)" >&2; exit 1; }

# onnxruntime-node as installed, with the provider beside its core library.
mkdir -p "$work/node_modules"
cp -r node_modules/onnxruntime-common "$work/node_modules/"
mkdir -p "$work/node_modules/onnxruntime-node/bin/napi-v6/linux"
cp -r node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/package.json "$work/node_modules/onnxruntime-node/"
cp -r "$BINDING" "$work/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cat "${parts[@]}" | xz -dc | tar -x -C "$work/$BINDING"

# The CUDA 13 user-space libraries the provider links, from PyPI.
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$work/wheels" \
  'nvidia-cuda-runtime>=13,<14' 'nvidia-cublas>=13,<14' 'nvidia-curand>=10.4,<11' 2>&1 | grep -v WARNING || true
python3 -m pip install --quiet --no-index --no-deps --target "$work/site" "$work"/wheels/*.whl 2>&1 | grep -v WARNING || true
libs="$(find "$work/site/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)"

# The driver's library, standing in: the provider's symbols from it, and nothing else.
symbols="$(nm -D --undefined-only "$work/$BINDING/libonnxruntime_providers_cuda.so" | awk '$2 ~ /^cu[A-Z]/ { print $2 }')"
mkdir -p "$work/driver"
for symbol in $symbols; do echo "int $symbol(void) { return 100; /* CUDA_ERROR_NO_DEVICE */ }"; done > "$work/driver/stub.c"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$work/driver/libcuda.so.1" "$work/driver/stub.c"

missing="$(LD_LIBRARY_PATH="$libs:$work/driver" ldd "$work/$BINDING/libonnxruntime_providers_cuda.so" | grep 'not found' || true)"
[ -z "$missing" ] || { echo "provider-load: still missing: $missing" >&2; exit 1; }

cat > "$work/load.cjs" <<'JS'
const ort = require('onnxruntime-node');
ort.InferenceSession.create(process.argv[2], { executionProviders: ['cuda'] }).then(
  () => { console.log('a CUDA session was created: is there a GPU here?'); },
  (error) => {
    const reached = /cudaSetDevice/.test(error.message);
    console.log(reached
      ? 'the CUDA provider loads into onnxruntime-node\'s core and creates its execution provider; it stopped at cudaSetDevice, as it must without a driver'
      : `the CUDA provider did not load: ${error.message.slice(0, 600)}`);
    process.exit(reached ? 0 : 1);
  });
JS
(cd "$work" && LD_LIBRARY_PATH="$libs:$work/driver" node load.cjs "$OLDPWD/models/imf-mnist/model.onnx" 2>/dev/null)
