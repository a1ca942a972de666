# syntax=docker/dockerfile:1.7
# The GPU worker on the CUDA execution provider: CUDA 12 + cuDNN 9 runtime, onnxruntime-node with
# its CUDA provider libraries, every other platform's binaries pruned.
# Build from the repository root:  docker build -f infra/gpu-worker/gpu.Dockerfile -t imf-gpu-worker:gpu .
# Run with the NVIDIA container toolkit:  docker run --gpus all -e WORKER_SECRET=… imf-gpu-worker:gpu
# Not built on the development machines (no Docker there): keep it correct by reading.

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

# ---- dependencies: the worker's production dependencies only, plus onnxruntime-node's CUDA 12 provider
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json ./contract/
COPY gpu-worker/package.json ./gpu-worker/
# onnxruntime-node's install script is skipped during `npm ci` (the variable below), then run on
# purpose for exactly the CUDA 12 provider (it downloads the onnxruntime GPU package matching this
# onnxruntime-node version; the build needs network access to do so).
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --workspace gpu-worker --include-workspace-root=false --no-audit --no-fund \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/win32 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_tensorrt.so \
 && npm cache clean --force

# ---- runtime: CUDA 12 with cuDNN 9 (what onnxruntime 1.30's CUDA provider links against)
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
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
