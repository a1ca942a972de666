"""Write models/noise/test-vectors.json: for a few seeds, the first raw 32-bit outputs, the first
normals, and sums over one 1x28x28 image. The Python and TypeScript generators both assert them.

    python -m imf.core.noise_vectors            # rewrite the file
    python -m imf.core.noise_vectors --check    # exit 1 if the file disagrees with this generator"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from imf.core.noise import NAME, Xoshiro128ss, normals

PATH = Path(__file__).resolve().parents[1] / "noise" / "test-vectors.json"
SEEDS = [0, 1, 2, 42, 1234567, 2147483648, 4294967295]
SHAPE = [1, 28, 28]


def vectors() -> dict:
    count = int(np.prod(SHAPE))
    cases = []
    for seed in SEEDS:
        rng = Xoshiro128ss(seed)
        values = normals(seed, count).astype(np.float64)
        cases.append({
            "seed": seed,
            "first_u32": [rng.next_u32() for _ in range(4)],
            "first_normals": [float(v) for v in values[:8]],
            "sum": float(values.sum()),
            "sum_of_squares": float((values ** 2).sum()),
        })
    return {"generator": NAME, "shape": SHAPE, "cases": cases,
            "note": "first_normals are float32 values written as float64; compare exactly after "
                    "rounding to float32, sums to 1e-3"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    data = vectors()
    if args.check:
        return 0 if json.loads(PATH.read_text()) == data else 1
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
