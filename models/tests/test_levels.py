"""Output levels (core/levels.py): the fitted curve moves a hazy histogram onto the real one, keeps
the order of intensities, and the exported graph applies exactly that curve."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from imf.core.levels import apply_levels, channel_histograms, fit_levels
from imf.export import onnx_io
from imf.export.graphs import INPUTS, OUTPUTS, PixelSampler


def hazy_and_real(rng, n=400):
    """Real: 80% of pixels exactly 0, strokes near 255. Hazy: the same with half of the zeros
    lifted to 1..59 (the speckle of a 1-NFE sample's background)."""
    real = np.where(rng.random((n, 1, 8, 8)) < 0.8, 0, rng.integers(180, 256, (n, 1, 8, 8)))
    hazy = real.copy()
    lift = (real == 0) & (rng.random(real.shape) < 0.5)
    hazy[lift] = rng.integers(1, 60, lift.sum())
    return hazy.astype(np.uint8), real.astype(np.uint8)


def test_fitted_levels_give_the_real_histogram_back():
    rng = np.random.default_rng(0)
    hazy, real = hazy_and_real(rng)
    levels = fit_levels(hazy, channel_histograms(real))
    mapped = apply_levels(hazy, levels)
    assert (hazy == 0).mean() < 0.45 and ((hazy >= 10) & (hazy <= 59)).mean() > 0.3
    assert abs((mapped == 0).mean() - (real == 0).mean()) < 0.02
    assert ((mapped >= 10) & (mapped <= 59)).mean() < 0.01
    tv = 0.5 * np.abs(channel_histograms(mapped) - channel_histograms(real)).sum()
    assert tv < 0.1 < 0.5 * np.abs(channel_histograms(hazy) - channel_histograms(real)).sum()


def test_levels_are_monotone_per_channel_and_identity_on_real_data():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (200, 3, 8, 8)).astype(np.uint8)
    identity = np.tile(np.arange(256), (3, 1))
    own = fit_levels(pixels, channel_histograms(pixels))
    assert np.abs(own.astype(int) - identity).max() <= 1
    dark = (pixels // 2).astype(np.uint8)
    levels = fit_levels(dark, channel_histograms(pixels))
    assert levels.shape == (3, 256) and levels.dtype == np.uint8
    assert (np.diff(levels.astype(int), axis=1) >= 0).all()
    assert (levels.astype(int) != identity).any()


def test_a_channel_count_mismatch_is_refused():
    with pytest.raises(ValueError, match="channels"):
        fit_levels(np.zeros((2, 3, 4, 4), np.uint8), channel_histograms(np.zeros((2, 1, 4, 4), np.uint8)))


class Flat(torch.nn.Module):
    """A stand-in network whose u spreads the noise over [-1, 1] pixels per channel."""

    def u(self, z, h, omega, t_min, t_max, y):
        shift = (y.float() * 0.1 + 0.01 * (omega + t_min - t_max) + 0.0 * h).reshape(-1, 1, 1, 1)
        return z - torch.tanh(z + shift)


def test_the_exported_graph_applies_the_levels_per_channel(tmp_path):
    rng = np.random.default_rng(2)
    levels = np.sort(rng.integers(0, 256, (3, 256)), axis=1).astype(np.uint8)
    plain, curved = PixelSampler(Flat()).eval(), PixelSampler(Flat(), levels=levels).eval()
    example = (torch.randn(2, 3, 8, 8), torch.tensor([0, 1]), torch.ones(2), torch.zeros(2),
               torch.ones(2))
    onnx_io.export_graph(curved, example, tmp_path, "model.onnx", INPUTS, OUTPUTS,
                         external_data=False)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    feed = dict(zip(INPUTS, (t.numpy() for t in (torch.randn(5, 3, 8, 8), torch.arange(5),
                                                  torch.ones(5), torch.zeros(5), torch.ones(5)))))
    served = session.run(None, feed)[0]
    before = plain(*(torch.from_numpy(v) for v in feed.values())).numpy()  # NHWC
    want = np.moveaxis(apply_levels(np.moveaxis(before, 3, 1), levels), 1, 3)
    assert served.dtype == np.uint8 and served.shape == (5, 8, 8, 3)
    assert (served == want).all() and not (served == before).all()
