# syntax=docker/dockerfile:1.7
# The GPU worker on the CUDA execution provider: CUDA 13 + cuDNN 9 runtime, onnxruntime-node 1.30
# with onnxruntime 1.30's CUDA provider, one worker per GPU, every other platform's binaries pruned.
# Build from the repository root:  docker build -f infra/gpu-worker/gpu.Dockerfile -t imf-gpu-worker:gpu .
# Run one container per GPU with the NVIDIA container toolkit:
#   docker run --gpus device=0 -e WORKER_SECRET=… imf-gpu-worker:gpu   (it sees one GPU: CUDA_DEVICE_ID 0)
# or give every container all GPUs and pick one:  --gpus all -e CUDA_DEVICE_ID=N
# Not built on the development machines (no Docker there): keep it correct by reading.
#
# The CUDA major is the provider's: onnxruntime 1.30's libonnxruntime_providers_cuda.so (PyPI
# onnxruntime-gpu==1.30.0) needs libcublasLt.so.13, libcublas.so.13, libcurand.so.10, libcudart.so.13
# and the driver's libcuda.so.1, and loads cuDNN 9 (libcudnn.so.9) when it starts. The command that
# shows it (the cuda-provider stage below prints it into the build log):
#   readelf -d libonnxruntime_providers_cuda.so | grep NEEDED
# The provider comes from that wheel rather than from onnxruntime-node's install script, whose
# NuGet package carries a `cuda12` label; the runtime stage's check fails the build if any library
# the provider or cuDNN needs is missing from the image.
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
ARG ONNXRUNTIME_VERSION=1.30.0

# ---- build: compile the contract package (contract/) and gpu-worker/src, npm workspaces of the root
FROM node:20-bookworm-slim AS build
WORKDIR /src
# onnxruntime-node's postinstall downloads CUDA libraries; compiling never needs them.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY contract/package.json ./contract/
COPY gpu-worker/package.json ./gpu-worker/
RUN npm ci --workspace gpu-worker --workspace @imf/contract --include-workspace-root=false --no-audit --no-fund
COPY contract/tsconfig.json contract/tsconfig.build.json ./contract/
COPY contract/src ./contract/src
COPY gpu-worker/tsconfig.json gpu-worker/tsconfig.build.json ./gpu-worker/
COPY gpu-worker/src ./gpu-worker/src
RUN npm run build --workspace gpu-worker

# ---- the CUDA provider: onnxruntime-gpu's libraries for this onnxruntime version (CUDA 13 builds)
FROM python:3.12-slim AS cuda-provider
ARG ONNXRUNTIME_VERSION
RUN apt-get update && apt-get install -y --no-install-recommends binutils unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /provider
RUN pip download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.12 "onnxruntime-gpu==${ONNXRUNTIME_VERSION}" -d /tmp/wheel \
 && unzip -j /tmp/wheel/onnxruntime_gpu-*.whl 'onnxruntime/capi/libonnxruntime_providers_cuda.so' 'onnxruntime/capi/libonnxruntime_providers_shared.so' -d /provider \
 && rm -rf /tmp/wheel \
 && echo "NEEDED of libonnxruntime_providers_cuda.so:" && readelf -d /provider/libonnxruntime_providers_cuda.so | grep NEEDED \
 && readelf -d /provider/libonnxruntime_providers_cuda.so | grep -q 'libcudart.so.13'

# ---- dependencies: the worker's production dependencies only (onnxruntime-node's CPU build of the same version)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json ./contract/
COPY gpu-worker/package.json ./gpu-worker/
# onnxruntime-node's install script (which would fetch a GPU package from NuGet) is skipped: the
# provider comes from the cuda-provider stage.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --workspace gpu-worker --include-workspace-root=false --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/win32 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
 && npm cache clean --force

# ---- runtime: CUDA 13 with cuDNN 9 (what onnxruntime 1.30's CUDA provider links against)
FROM ${CUDA_IMAGE}
COPY --from=node:20-bookworm-slim /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 10001 worker && useradd --uid 10001 --gid worker --no-create-home worker
WORKDIR /app/gpu-worker
ENV NODE_ENV=production \
    PORT=8080 \
    MODELS_DIR=/app/models \
    STORAGE_DIR=/app/data/images \
    EXECUTION_PROVIDER=cuda \
    INTRA_OP_THREADS=1 \
    MAX_BATCH_SIZE=64 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
    CUDA_DEVICE_ID=0 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# The workspace layout of the repository: node_modules/@imf/contract links to /app/contract, whose
# compiled dist/ the worker loads under the imf-compiled condition; gpu-worker/package.json makes
# dist/ ESM.
COPY --from=deps /app/node_modules /app/node_modules
COPY --from=deps /app/gpu-worker/node_modules ./node_modules
COPY --from=build /src/contract/package.json /app/contract/package.json
COPY --from=build /src/contract/dist /app/contract/dist
COPY --from=build /src/gpu-worker/package.json ./package.json
COPY --from=build /src/gpu-worker/dist ./dist
COPY --from=cuda-provider /provider/ /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
# The build fails here when a library the provider or cuDNN needs is missing from the image.
# libcuda.so.1 is the driver's: the container toolkit mounts it when the container starts.
RUN set -e; missing=""; \
    for lib in /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
               /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node \
               "$(ldconfig -p | awk '/libcudnn\.so\.9 /{print $NF; exit}')"; do \
      [ -n "$lib" ] || { echo "cuDNN 9 (libcudnn.so.9) is not in the image"; exit 1; }; \
      echo "ldd $lib:"; ldd "$lib"; \
      missing="$missing$(ldd "$lib" | grep 'not found' | grep -v 'libcuda\.so\.1' || true)"; \
    done; \
    if [ -n "$missing" ]; then echo "missing libraries:"; echo "$missing"; exit 1; fi
# Models are data: the shipped folders are baked in here; mount another MODELS_DIR to serve others.
COPY models/imf-mnist /app/models/imf-mnist
COPY models/imf-fashion /app/models/imf-fashion
RUN mkdir -p /app/data/images && chown -R worker:worker /app/data
USER worker
EXPOSE 8080
# EXECUTION_PROVIDER=cuda: a node without a usable GPU fails loudly at start instead of serving slowly.
# Probes: GET /healthz (liveness), GET /readyz (readiness: it names the provider per model).
STOPSIGNAL SIGTERM
CMD ["node", "--conditions=imf-compiled", "dist/main.js"]
