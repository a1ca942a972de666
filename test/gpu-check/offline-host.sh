#!/usr/bin/env bash
# The GPU host's kit, checked where there is no GPU. A copy of the working tree as it travels to a
# host (tracked and untracked-not-ignored files, nothing installed), the kit's Node and node_modules
# (infra/gpu-host/pack.sh, fastest compression), and a PATH that holds a few system tools, no Node
# and no xz (run.sh unpacks with Python's lzma then). Then the flow the host runs: `run.sh stage tiny:fp32` imports in the background, and
# `run.sh check --model …` waits for that import and serves it through the worker on the CPU
# provider. Fails when the kit lacks a module the worker or the check loads, when run.sh needs a
# tool a bare host lacks, or when the check runs on any Node but the kit's.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
host="$work/host"
mkdir -p "$host" "$work/bin"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -c | tar -x -C "$host"
KIT="$host/.cache/gpu-host" XZ_LEVEL=0 bash infra/gpu-host/pack.sh node modules > /dev/null

for tool in bash sh env tar cat cut date mkdir chmod mv rm cp grep ls tr ldd dirname basename \
  touch tail wc sha256sum setsid sleep; do
  ln -s "$(command -v "$tool")" "$work/bin/$tool"
done
on_host() { (cd "$host" && env -i HOME="$work" PATH="$work/bin" PYTHON="$root/.venv/bin/python" bash infra/gpu-host/run.sh "$@" 2>&1); }

staged="$(on_host stage tiny:fp32)" || { echo "$staged"; exit 1; }
echo "$staged"
# check waits for the import that stage left running.
checked="$(on_host check --provider=cpu --quick --model "$host/.cache/gpu-host/models/tiny-fp32/imf-check-tiny-fp32")" || { echo "$checked"; exit 1; }
cat "$host/.cache/gpu-host/models/tiny-fp32.log"
echo "$checked"
grep -q "at $host/.cache/gpu-host/bin/node\$" <<< "$checked" || { echo "offline host: the check did not run on the kit's Node" >&2; exit 1; }
