# syntax=docker/dockerfile:1.7
# The GPU worker on the CPU execution provider (development, CI-like load tests, CPU-only nodes).
# Build from the repository root:  docker build -f infra/gpu-worker/cpu.Dockerfile -t imf-gpu-worker:cpu .
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

# ---- dependencies: the worker's production dependencies only, this platform's native binaries only
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY contract/package.json ./contract/
COPY gpu-worker/package.json ./gpu-worker/
RUN npm ci --omit=dev --workspace gpu-worker --include-workspace-root=false --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/win32 \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64 \
 && npm cache clean --force

# ---- runtime
FROM node:20-bookworm-slim
WORKDIR /app/gpu-worker
ENV NODE_ENV=production \
    PORT=8080 \
    MODELS_DIR=/app/models \
    STORAGE_DIR=/app/data/images \
    EXECUTION_PROVIDER=cpu \
    INTRA_OP_THREADS=1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
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
RUN mkdir -p /app/data/images && chown -R node:node /app/data
USER node
EXPOSE 8080
# Probes: GET /healthz (liveness), GET /readyz (readiness). SIGTERM drains (SHUTDOWN_TIMEOUT_MS).
STOPSIGNAL SIGTERM
CMD ["node", "--conditions=imf-compiled", "dist/main.js"]
