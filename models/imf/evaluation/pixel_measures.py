"""Sample-quality measures on the served 8-bit pixels themselves, beside the classifier-feature
ones: a classifier trained to recognise digits is built to ignore background speckle, so a model
can improve its feature FID while its pictures get hazier. These cannot: they see every pixel.

- zero_fraction, haze_fraction: the share of pixels exactly 0 and in 10..59 (a dark background,
  and the faint grey of haze on it);
- histogram_distance: total-variation distance between the 256-bin intensity histograms;
- pixel_fd: the Fréchet distance between Gaussian fits of the pixels (average-pooled to at most
  1024 values per image), a feature space that is not trained at all, so not invariant to noise;
- pixel_diversity: mean distance between two samples of the same class, per pixel, in [0, 1].

Each is also measured on real held-out images against the real training images: the value a
perfect model would reach (`real_reference`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from imf.evaluation.metrics import frechet_distance

# Lower is better for every one of these distances to the real data.
PIXEL_DISTANCES = ("zero_fraction", "haze_fraction", "histogram_distance", "pixel_fd",
                   "pixel_diversity")
MAX_FD_VALUES = 1024


def to_pixels(images: Tensor) -> np.ndarray:
    """[-1, 1] images [N, C, H, W] -> the served uint8 values round(clip((x + 1) / 2 * 255))."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def _pooled(pixels: np.ndarray) -> np.ndarray:
    """[N, C, H, W] uint8 -> [N, D] float64 in [0, 1] with D <= MAX_FD_VALUES (average pooling
    by the smallest factor that gets there)."""
    x = torch.from_numpy(pixels).double() / 255.0
    n, c, h, _ = x.shape
    k = 1
    while c * (h // k) ** 2 > MAX_FD_VALUES:
        k += 1
    if k > 1:
        x = torch.nn.functional.avg_pool2d(x, k)
    return x.reshape(n, -1).numpy()


def _histogram(pixels: np.ndarray) -> np.ndarray:
    counts = np.bincount(pixels.reshape(-1), minlength=256).astype(np.float64)
    return counts / counts.sum()


def _pixel_diversity(pixels: np.ndarray, labels: np.ndarray) -> float:
    x = torch.from_numpy(pixels).double().flatten(1) / 255.0
    per_class = []
    for c in np.unique(labels):
        f = x[torch.from_numpy(labels == c)][:200]  # 200 per class bounds the pairwise cost
        if len(f) < 2:
            continue
        d = torch.cdist(f, f) / np.sqrt(f.shape[1])
        per_class.append((d.sum() / (len(f) * (len(f) - 1))).item())
    return float(np.mean(per_class))


class PixelReference:
    """The real training images' statistics that samples are compared with."""

    def __init__(self, train_pixels: np.ndarray):
        pooled = _pooled(train_pixels)
        self.mean, self.cov = pooled.mean(0), np.cov(pooled, rowvar=False)
        self.histogram = _histogram(train_pixels)

    def measure(self, pixels: np.ndarray, labels: np.ndarray) -> dict:
        """The raw measures of uint8 images [N, C, H, W] with their class labels."""
        pooled = _pooled(pixels)
        flat = pixels.reshape(-1)
        return {
            "zero_fraction": round(float((flat == 0).mean()), 4),
            "haze_fraction": round(float(((flat >= 10) & (flat <= 59)).mean()), 4),
            "pixel_mean": round(float(flat.mean()), 2),
            "histogram_distance": round(0.5 * float(np.abs(_histogram(pixels) - self.histogram).sum()), 4),
            "pixel_fd": round(frechet_distance(pooled.mean(0), np.cov(pooled, rowvar=False),
                                               self.mean, self.cov), 3),
            "pixel_diversity": round(_pixel_diversity(pixels, labels), 4),
        }


def distances(measures: dict, real: dict) -> dict:
    """Each measure as a distance to what real held-out images score (lower is better): the
    histogram distance and pixel FD are distances already; the fractions and the diversity
    count by how far they are from the real value."""
    out = {}
    for name in PIXEL_DISTANCES:
        if name in ("histogram_distance", "pixel_fd"):
            out[name] = measures[name]
        else:
            out[name] = abs(measures[name] - real[name])
    return out


def no_pixel_measure_worse(candidate: dict, anchor: dict, real: dict, slack: float = 0.02) -> bool:
    """True when no pixel measure of `candidate` is further from the real data than `anchor`'s,
    beyond a relative slack for sampling noise (2%, plus a floor of 0.002 for distances near 0)."""
    dc, da = distances(candidate, real), distances(anchor, real)
    return all(dc[k] <= da[k] * (1 + slack) + 0.002 for k in PIXEL_DISTANCES)


def pixel_rank(point: dict, points: list[dict], real: dict) -> float:
    """The point's mean rank among `points` over the pixel distances (0 = best on every one)."""
    mine = distances(point, real)
    others = [distances(p, real) for p in points]
    return float(np.mean([sum(o[k] < mine[k] for o in others) for k in PIXEL_DISTANCES]))
