#!/usr/bin/env bash
# Installs the checkers of infra/ (kubernetes-validate with its bundled API schemas, compose-spec)
# into .venv-infra/, a venv of its own. Safe to rerun: does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
if [ -x .venv-infra/bin/python ] && [ .venv-infra/.installed -nt infra/check/requirements.txt ]; then
  exit 0
fi
[ -x .venv-infra/bin/python ] || "$PYTHON" -m venv .venv-infra
.venv-infra/bin/pip install --quiet --disable-pip-version-check -r infra/check/requirements.txt
touch .venv-infra/.installed
