import json
from pathlib import Path

import numpy as np
import pytest
import torch

from imf.core.noise import NAME, Xoshiro128ss, batch_noise, image_noise, normals

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "noise" / "test-vectors.json").read_text())


def test_vectors_name_this_generator():
    assert VECTORS["generator"] == NAME


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"seed-{c['seed']}")
def test_generator_matches_committed_vectors(case):
    rng = Xoshiro128ss(case["seed"])
    assert [rng.next_u32() for _ in range(4)] == case["first_u32"]
    values = normals(case["seed"], int(np.prod(VECTORS["shape"])))
    assert values[:8].tolist() == np.float32(case["first_normals"]).tolist()
    assert abs(values.astype(np.float64).sum() - case["sum"]) < 1e-3
    assert abs((values.astype(np.float64) ** 2).sum() - case["sum_of_squares"]) < 1e-3


def test_noise_depends_only_on_the_seed_not_the_batch():
    alone = image_noise(42, (1, 28, 28))
    in_batch = batch_noise([7, 42, 9], (1, 28, 28))
    assert torch.equal(in_batch[1], alone)
    assert not torch.equal(in_batch[0], in_batch[2])


def test_noise_is_standard_normal():
    x = np.concatenate([normals(s, 784) for s in range(100)])
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
    assert abs((x ** 4).mean() - 3) < 0.1  # Gaussian kurtosis


@pytest.mark.parametrize("bad", [-1, 2 ** 32, 1.5, "3"])
def test_seed_must_be_unsigned_32_bit(bad):
    with pytest.raises(ValueError, match="unsigned 32-bit"):
        Xoshiro128ss(bad)
