import torch

from conftest import TINY, randomized
from imf.core.config import ConfigError, ModelConfig
from imf.core.network import ImfDiT

import pytest


def inputs(b=3, cfg=TINY):
    return (torch.randn(b, cfg.channels, cfg.image_size, cfg.image_size), torch.rand(b),
            1 + 3 * torch.rand(b), torch.zeros(b), torch.ones(b), torch.tensor([0, 5, cfg.null_class])[:b])


def test_outputs_have_the_image_shape_and_dtype(tiny_net):
    u, v = tiny_net(*inputs())
    assert u.shape == v.shape == (3, 1, 28, 28)
    assert u.dtype == v.dtype == torch.float32


def test_zero_initialisation_gives_zero_velocities(tiny_net):
    u, v = tiny_net(*inputs())
    assert torch.count_nonzero(u) == 0 and torch.count_nonzero(v) == 0


def test_conditioning_changes_the_output():
    net = randomized(ImfDiT(TINY))
    z, h, w, lo, hi, y = inputs()
    base = net.u(z, h, w, lo, hi, y)
    for changed in (net.u(z, h + 0.1, w, lo, hi, y), net.u(z, h, w + 1, lo, hi, y),
                    net.u(z, h, w, lo + 0.2, hi, y), net.u(z, h, w, lo, hi - 0.2, y),
                    net.u(z, h, w, lo, hi, (y + 1) % TINY.num_classes)):
        assert not torch.allclose(base, changed)


def test_token_sequence_is_prefix_plus_patches(tiny_net):
    seq = tiny_net.sequence(*inputs())
    assert seq.shape == (3, TINY.prefix_tokens + TINY.num_patches, TINY.hidden_size)


def test_patchify_round_trips(tiny_net):
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(tiny_net.unpatchify(tiny_net.patchify(x)), x)


def test_samples_in_a_batch_do_not_interact():
    net = randomized(ImfDiT(TINY))
    args = inputs()
    together = net.u(*args)
    alone = torch.cat([net.u(*(a[i:i + 1] for a in args)) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("field,value", [("hidden_size", 30), ("patch_size", 5), ("num_heads", 0)])
def test_invalid_model_config_is_refused(field, value):
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{field: value}).validate()
