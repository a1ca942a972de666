"""A user's image folder as a data set, laid out the way vision data is usually kept: one
sub-folder per class (its name is the class name), PNG or JPEG files inside. Images are resized
(shorter side to the resolution) and centre-cropped, as grayscale or RGB. Every file is checked
before training starts; the decoded set is cached under .cache/folders/ by a hash of the listing.

A fixed tenth of each class (every tenth file in name order) is held out as the test split, which
training never sees and evaluation compares against."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from imf.data.split import DataError, Split
from imf.paths import REPO_ROOT

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CACHE_DIR = REPO_ROOT / ".cache" / "folders"
HOLDOUT_EVERY = 10  # file i of a class (in name order) is held out when i % 10 == 9


def scan(root: Path) -> list[tuple[str, list[Path]]]:
    """(class name, image files) per class, both in name order; a clear error for a layout that
    cannot train a class-conditional model."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data folder {root} not found (expected one sub-folder per class)")
    classes = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in sub.iterdir()
                       if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"class folder {sub} has no PNG or JPEG images")
        classes.append((sub.name, files))
    if len(classes) < 2:
        raise DataError(f"{root} has {len(classes)} class folder(s); a class-conditional model "
                        "needs at least two (one sub-folder per class, images inside)")
    return classes


def class_names(root: Path) -> list[str]:
    return [name for name, _ in scan(root)]


def _decode(job: tuple[str, int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    path, size, channels = job
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            scale = size / min(img.size)
            w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
            if (w, h) != img.size:
                img = img.resize((w, h), Image.BICUBIC)
            left, top = (w - size) // 2, (h - size) // 2
            return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DataError(f"cannot read image {path}: {err}") from None


def _cache_key(classes, size: int, channels: int) -> str:
    h = hashlib.sha256(f"{size}:{channels}".encode())
    for name, files in classes:
        h.update(name.encode() + b"\0")
        for f in files:
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:20]


def fingerprint(root: Path, size: int, channels: int) -> str:
    """A name for the folder's decoded contents: changes when any file, size or mode does."""
    return _cache_key(scan(root), size, channels)


def decode_all(root: Path, size: int, channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, held_out) for the whole folder, decoded once and cached."""
    classes = scan(root)
    key = _cache_key(classes, size, channels)
    cached = CACHE_DIR / f"{key}.npz"
    if cached.is_file():
        with np.load(cached) as npz:
            return npz["images"], npz["labels"], npz["held_out"]
    jobs, labels, held_out = [], [], []
    for label, (_, files) in enumerate(classes):
        for i, f in enumerate(files):
            jobs.append((str(f), size, channels))
            labels.append(label)
            held_out.append(i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1)
    workers = min(len(os.sched_getaffinity(0)), 16)
    if workers > 1 and len(jobs) > 2000:
        with ProcessPoolExecutor(workers) as pool:
            images = list(pool.map(_decode, jobs, chunksize=256))
    else:
        images = [_decode(j) for j in jobs]
    out = (np.stack(images), np.asarray(labels, dtype=np.int64), np.asarray(held_out))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.npz")
    np.savez(tmp, images=out[0], labels=out[1], held_out=out[2])
    os.replace(tmp, cached)
    return out


def load_folder(root: Path, size: int, channels: int, split: str) -> Split:
    images, labels, held_out = decode_all(root, size, channels)
    keep = held_out if split == "test" else ~held_out
    if split == "test" and not keep.any():
        raise DataError(f"{root} is too small to hold out a test split (needs at least "
                        f"{HOLDOUT_EVERY} images in some class)")
    return Split(images[keep], labels[keep])
