# The edge (functions/) on Node for self-hosting: the same Hono app as on Workers, with an
# in-process LRU cache and S3 storage (functions/src/runtime/node.ts). Build from the repository root:
#   docker build -f infra/edge/node.Dockerfile -t imf-edge-node .
FROM node:20-bookworm-slim AS build
WORKDIR /src
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY functions ./functions
COPY models ./models
# The model manifests are bundled into the edge (functions/scripts/generate-registry.mjs).
RUN npm run --silent build:edge-node

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8787 HOST=0.0.0.0
# The bundle keeps packages external (hono, @hono/node-server, aws4fetch, zod): they come along.
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/edge-node.mjs ./dist/edge-node.mjs
USER node
EXPOSE 8787
CMD ["node", "dist/edge-node.mjs"]
