#!/usr/bin/env bash
# Installs schemathesis (PyPI), the fuzzer `npm run test:api-fuzz` drives over /openapi.json, into
# .venv-fuzz/, a venv of its own. Safe to rerun: does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
if [ -x .venv-fuzz/bin/schemathesis ] && [ .venv-fuzz/.installed -nt test/api-fuzz/requirements.txt ]; then
  exit 0
fi
[ -x .venv-fuzz/bin/python ] || "$PYTHON" -m venv .venv-fuzz
.venv-fuzz/bin/pip install --quiet --disable-pip-version-check -r test/api-fuzz/requirements.txt
touch .venv-fuzz/.installed
