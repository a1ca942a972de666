"""Shared fixtures: tiny networks so the suite runs in minutes on two cores."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imf.core.config import ModelConfig  # noqa: E402
from imf.core.network import ImfDiT  # noqa: E402

TINY = ModelConfig(hidden_size=32, num_heads=2, shared_depth=1, head_depth=1, class_tokens=2,
                   omega_tokens=1, t_min_tokens=1, t_max_tokens=1, time_tokens=1)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def randomized(net: ImfDiT, std: float = 0.2, seed: int = 0) -> ImfDiT:
    """Give every parameter random values (a fresh net has zero gates and outputs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return net


@pytest.fixture
def tiny_net() -> ImfDiT:
    torch.manual_seed(0)
    return ImfDiT(TINY)
