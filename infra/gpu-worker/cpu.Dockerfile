# syntax=docker/dockerfile:1.7
# The GPU worker on the CPU execution provider (development, CI-like load tests, CPU-only nodes).
# Build from the repository root:  docker build -f infra/gpu-worker/cpu.Dockerfile -t imf-gpu-worker:cpu .
# Not built on the development machines (no Docker there): keep it correct by reading.

# ---- build: compile gpu-worker/src and the shared contract it imports (functions/src/contract)
FROM node:20-bookworm-slim AS build
WORKDIR /src/gpu-worker
# onnxruntime-node's postinstall downloads CUDA libraries; the CPU image never wants them.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY gpu-worker/package.json gpu-worker/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY gpu-worker/tsconfig.json gpu-worker/tsconfig.build.json ./
COPY gpu-worker/src ./src
COPY functions/src/contract ../functions/src/contract
# The contract resolves zod from a node_modules above it, as it does in the repository.
RUN ln -s /src/gpu-worker/node_modules /src/node_modules && npm run build

# ---- dependencies: production only, this platform's native binaries only
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY gpu-worker/package.json gpu-worker/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/win32 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
 && npm cache clean --force

# ---- runtime
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080 \
    MODELS_DIR=/app/models \
    STORAGE_DIR=/app/data/images \
    EXECUTION_PROVIDER=cpu \
    INTRA_OP_THREADS=1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# /app/package.json makes dist/ ESM; /app/node_modules is above dist/, so the contract finds zod.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/gpu-worker/dist ./dist
# Models are data: the shipped folder is baked in here; mount another MODELS_DIR to serve others.
COPY models/imf-mnist ./models/imf-mnist
RUN mkdir -p /app/data/images && chown -R node:node /app/data
USER node
EXPOSE 8080
# Probes: GET /healthz (liveness), GET /readyz (readiness). SIGTERM drains (SHUTDOWN_TIMEOUT_MS).
STOPSIGNAL SIGTERM
CMD ["node", "dist/gpu-worker/src/main.js"]
