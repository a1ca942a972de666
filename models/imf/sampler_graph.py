"""The whole one-step sampler as one module, the graph the worker runs:
noise, class, guidance, t_min, t_max in; image in [-1, 1] out. The v head is left out."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .network import ImfDiT

INPUTS = ["noise", "class", "guidance", "t_min", "t_max"]
OUTPUTS = ["image"]


class OneStepSampler(nn.Module):
    def __init__(self, net: ImfDiT):
        super().__init__()
        self.net = net

    def forward(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
                t_max: Tensor) -> Tensor:
        h = torch.ones_like(guidance)
        u = self.net.u(noise, h, guidance, t_min, t_max, label)
        return (noise - u).clamp(-1.0, 1.0)


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] -> 0..255 the way the worker encodes pixels: round(clamp((x + 1) * 127.5))."""
    return torch.round(((images.clamp(-1, 1) + 1.0) * 127.5)).clamp(0, 255).to(torch.uint8)
