"""The whole one-step sampler as one module, the graph the worker runs:
noise, class, guidance, t_min, t_max in; image in [-1, 1] out. The v head is left out.

The inputs and output are the manifest's (contract/manifest.schema.json, whose TypeScript source
is contract/src/manifest.ts): same names, order and element types; the exporter's tests check the
manifest it writes against that schema."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .method import sample_one_step
from .network import ImfDiT

# (name, element type, meaning) of each graph input, in the graph's order.
INPUT_SPECS = [
    ("noise", "float32", "N(0, 1) noise z from the noise generator, one seed per image"),
    ("class", "int64", "class index; null_class for unconditional"),
    ("guidance", "float32", "classifier-free guidance scale omega (1 = no guidance)"),
    ("t_min", "float32", "start of the guidance interval"),
    ("t_max", "float32", "end of the guidance interval"),
]
OUTPUT_SPECS = [
    ("image", "float32", "x = z - u(z, h = 1, omega, t_min, t_max, class), clamped to [-1, 1]"),
]
INPUTS = [name for name, _, _ in INPUT_SPECS]
OUTPUTS = [name for name, _, _ in OUTPUT_SPECS]


class OneStepSampler(nn.Module):
    def __init__(self, net: ImfDiT):
        super().__init__()
        self.net = net

    def forward(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
                t_max: Tensor) -> Tensor:
        return sample_one_step(self.net, noise, label, guidance, t_min, t_max).clamp(-1.0, 1.0)


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] -> 0..255 the way the worker encodes pixels: round(clamp((x + 1) * 127.5))."""
    return torch.round(((images.clamp(-1, 1) + 1.0) * 127.5)).clamp(0, 255).to(torch.uint8)
