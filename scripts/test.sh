#!/usr/bin/env bash
# Runs every test of the repository. `npm test` calls this; so does CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== models (pytest)"
(cd models && PYTHONPATH=. ../.venv/bin/python -m pytest -q tests)

echo "== edge (workerd + Node)"
npm run --silent test:edge

echo "== gpu-worker (vitest: real model, real SeaweedFS)"
(cd gpu-worker && npm test)
