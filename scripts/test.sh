#!/usr/bin/env bash
# Runs every test of the repository. `npm test` calls this; so does CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== models (pytest)"
(cd models && PYTHONPATH=. ../.venv/bin/python -m pytest -q tests)

echo "== contract (the package the edge, the worker and the tests share)"
npm test --silent --workspace @imf/contract

echo "== edge (workerd + Node)"
npm run --silent test:edge

echo "== gpu-worker (vitest: real model, real SeaweedFS)"
(cd gpu-worker && npm test)

echo "== gpu:check at tiny size on the CPU provider, as an offline GPU host runs it from the kit (infra/gpu-host)"
bash test/gpu-check/offline-host.sh

echo "== infra (Kubernetes manifests and compose file, offline schemas)"
npm run --silent test:infra

echo "== end to end (SeaweedFS, GPU workers, edge on Node; overload, faults; playground in Chromium)"
npm run --silent test:e2e

echo "== API fuzzing (schemathesis over /openapi.json against the real stack: no 5xx)"
npm run --silent test:api-fuzz
