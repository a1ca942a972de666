"""What to keep in float32 in a float16 graph: a float32 import (a model folder as
`npm run model:import` writes it) rewritten to float16 by imf/export/half.py with each candidate
set of op types and modules kept float32, its 8-bit pixels on the folder's reference requests
(each alone) against the folder's reference pixels (the float32 PyTorch graph's), the values that
move when the same requests run in one batch, its weight file and its CPU seconds per image. The
measurement behind half.FLOAT32_OPS and half.FLOAT32_MODULES (models/README.md, "Half precision").
Prints a table.

    python bench/half_precision.py --model /tmp/imf-b2-random [--threads 2] [--provider cuda]

On the CPU, onnxruntime computes every op it has no float16 kernel for (MatMul, Conv, ...) in
float32 between float16 tensors, so the pixels show the float16 rounding of every tensor and its
overflow, not the GPU's kernels, and its seconds are no guide to the GPU's."""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imf.export import half  # noqa: E402
from imf.export.checks import feeds_for  # noqa: E402
from imf.export.onnx_io import cpu_name, session  # noqa: E402

# name: (op types, modules) kept float32 besides the pixel rounding
CANDIDATES = {
    "none (all float16)": ((), ()),
    "norm statistics": (half.FLOAT32_OPS, ()),
    "scalar embeddings": ((), half.FLOAT32_MODULES),
    "norm statistics, scalar embeddings (the import's)": (half.FLOAT32_OPS, half.FLOAT32_MODULES),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a float32 import's folder")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--provider", choices=("cpu", "cuda"), default="cpu")
    args = p.parse_args(argv)
    folder = Path(args.model)
    man = json.loads((folder / "model.json").read_text())
    if man.get("precision", {}).get("compute", "float32") != "float32":
        p.error(f"{folder} is a {man['precision']['compute']} import; give a float32 one")
    ref = json.loads((folder / "reference.json").read_text())["requests"]
    expected = np.stack([np.frombuffer(base64.b64decode(r["pixels_base64"]), np.uint8)
                         for r in ref])
    latent = tuple(man["noise"]["shape"])
    feeds = [{k: v.numpy() for k, v in feeds_for([r], latent).items()} for r in ref]
    data32 = next(f["bytes"] for f in man["files"] if f["name"].endswith(".data"))

    rows = []
    for name, (ops, modules) in CANDIDATES.items():
        with tempfile.TemporaryDirectory() as tmp:
            half.write_float16(folder / man["graph"], Path(tmp), "model.onnx", ops, modules)
            graph = session(Path(tmp) / "model.onnx", args.threads, args.provider)
            pixels, seconds = [], []
            for f in feeds:
                started = time.perf_counter()
                pixels.append(graph.run(None, f)[0].ravel())
                seconds.append(time.perf_counter() - started)
            alone = np.stack(pixels)
            batched = graph.run(None, {k: v.numpy() for k, v in feeds_for(ref, latent).items()})[0]
            d = half.pixel_difference(alone, expected)
            data16 = (Path(tmp) / "model.onnx.data").stat().st_size
        moved = int((batched.reshape(alone.shape) != alone).sum())
        rows.append([name, d["max"], f"{100 * d['share']:.2f}%", d["mean_abs"],
                     d.get("psnr_db", "equal"), f"{100 * moved / alone.size:.2f}%",
                     f"{data16 / 1e6:.1f} ({data32 / 1e6:.1f})",
                     f"{statistics.median(seconds[1:]):.2f}"])
        print(f"{name}: {d}", file=sys.stderr, flush=True)

    head = ["kept float32", "max levels", "values differing", "mean levels", "PSNR dB",
            "values moved in one batch", "weights MB (float32)",
            f"s/image, {graph.get_providers()[0]}"]
    print(f"\n{man['id']}: float16 against the float32 PyTorch graph on {len(ref)} reference "
          f"requests; {cpu_name()}, {args.threads} thread(s)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(map(str, row)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
