"""The pixel measures see what a classifier ignores: grey haze on a black background."""

import numpy as np

from imf.evaluation.pixel_measures import PixelReference, distances


def digits(n, rng, haze=0.0):
    """Black 28x28 images with a bright bar; `haze` of the background pixels turned faint grey."""
    x = np.zeros((n, 1, 28, 28), dtype=np.uint8)
    x[:, :, 6:22, 12:16] = 250
    grey = rng.random(x.shape) < haze
    x[grey & (x == 0)] = rng.integers(10, 60, size=int((grey & (x == 0)).sum()))
    return x


def test_real_images_measure_as_the_reference():
    rng = np.random.default_rng(0)
    ref = PixelReference(digits(200, rng))
    m = ref.measure(digits(100, rng), np.zeros(100, dtype=int))
    assert m["histogram_distance"] == 0 and m["haze_fraction"] == 0
    assert m["pixel_fd"] < 1e-6


def test_haze_worsens_every_background_measure():
    rng = np.random.default_rng(0)
    ref = PixelReference(digits(200, rng))
    labels = np.zeros(100, dtype=int)
    real = ref.measure(digits(100, rng), labels)
    hazy = ref.measure(digits(100, rng, haze=0.3), labels)
    assert hazy["zero_fraction"] < real["zero_fraction"] - 0.2
    assert hazy["haze_fraction"] > 0.2
    d_real, d_hazy = distances(real, real), distances(hazy, real)
    for name in ("zero_fraction", "haze_fraction", "histogram_distance", "pixel_fd"):
        assert d_hazy[name] > d_real[name], name


def test_diversity_counts_differences_within_a_class():
    rng = np.random.default_rng(0)
    same = digits(50, rng)
    ref = PixelReference(same)
    varied = same.copy()
    for i in range(50):
        varied[i] = np.roll(varied[i], i % 7 - 3, axis=-1)
    labels = np.zeros(50, dtype=int)
    assert ref.measure(same, labels)["pixel_diversity"] == 0
    assert ref.measure(varied, labels)["pixel_diversity"] > 0.05
