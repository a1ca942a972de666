"""Sample-quality numbers from classifier features: FID, class accuracy and a diversity measure."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def gaussian_stats(features: Tensor) -> tuple[np.ndarray, np.ndarray]:
    f = features.double().numpy()
    return f.mean(0), np.cov(f, rowvar=False)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2): the Fréchet distance between two
    Gaussians, computed through symmetric square roots (stable for PSD covariances)."""
    s1 = _sqrtm_psd(cov1)
    cross = _sqrtm_psd(s1 @ cov2 @ s1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(cross))


def fid(features: Tensor, reference: tuple[np.ndarray, np.ndarray]) -> float:
    mu, cov = gaussian_stats(features)
    return frechet_distance(mu, cov, *reference)


def class_accuracy(logits: Tensor, labels: Tensor) -> float:
    return (logits.argmax(1) == labels).float().mean().item()


def diversity(features: Tensor, labels: Tensor) -> float:
    """Mean pairwise distance between the unit-normalised features of samples of the same class,
    averaged over classes. Normalised, so sharper images (larger activations) do not count as
    more diverse; guidance trades this for fidelity: it falls as omega grows."""
    per_class = []
    for c in labels.unique():
        f = torch.nn.functional.normalize(features[labels == c].double(), dim=1)
        if len(f) < 2:
            continue
        d = torch.cdist(f, f)
        n = len(f)
        per_class.append((d.sum() / (n * (n - 1))).item())
    return float(np.mean(per_class))
