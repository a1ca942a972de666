# The edge (functions/) on Node for self-hosting: the same Hono app as on Workers, with an
# in-process LRU cache and S3 (or file) storage (functions/src/runtime/node.ts). Build from the repository root:
#   docker build -f infra/edge/node.Dockerfile -t imf-edge-node .
FROM node:20-bookworm-slim AS build
WORKDIR /src
ENV ONNXRUNTIME_NODE_INSTALL=skip
# The root package and the contract package it bundles (npm workspaces; the worker's is not installed).
COPY package.json package-lock.json ./
COPY contract/package.json ./contract/
COPY gpu-worker/package.json ./gpu-worker/
RUN npm ci --workspace @imf/contract --include-workspace-root --no-audit --no-fund
COPY contract/src ./contract/src
COPY functions ./functions
COPY models ./models
# The model manifests are bundled into the edge (functions/scripts/generate-registry.mjs).
RUN npm run --silent build:edge-node

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8787 HOST=0.0.0.0
# The bundle holds the edge and the contract; other packages stay external (hono, @hono/node-server,
# aws4 and zod, the contract's dependencies): they come along.
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/edge-node.mjs ./dist/edge-node.mjs
USER node
EXPOSE 8787
CMD ["node", "dist/edge-node.mjs"]
