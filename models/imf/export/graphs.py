"""The one graph every served model is: noise, class, guidance, t_min, t_max in; 8-bit pixels
[B, H, W, C] out. A pixel model's graph is its sampler, the pixel rounding, then its output levels
(core/levels.py: a per-channel tone curve fitted by the evaluation; none for a model without one);
a latent model's is the sampler in latent space, the latent de-normalisation, the VAE decoder,
then the same rounding. The samplers are method.py's; the v head is left out.

The inputs and output are the manifest's (contract/manifest.schema.json, whose TypeScript source
is contract/src/manifest.ts): same names, order and element types; the exporters' tests check the
manifest they write against that schema."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from imf.core.method import sample_mean_flow, sample_one_step

# (name, element type, meaning) of each graph input, in the graph's order.
INPUT_SPECS = [
    ("noise", "float32", "N(0, 1) noise z from the noise generator, one seed per image"),
    ("class", "int64", "class index; null_class for unconditional"),
    ("guidance", "float32", "classifier-free guidance scale omega (1 = no guidance)"),
    ("t_min", "float32", "start of the guidance interval"),
    ("t_max", "float32", "end of the guidance interval"),
]
INPUTS = [name for name, _, _ in INPUT_SPECS]
OUTPUTS = ["image"]
TO_PIXELS = "round(clip((x + 1) / 2 * 255, 0, 255))"
# levels: the per-channel output levels the evaluation fitted (manifest evaluation.levels.curves).
WITH_LEVELS = f"levels[c][{TO_PIXELS}]"


def to_pixels(images: Tensor) -> Tensor:
    """[B, C, H, W] in [-1, 1] -> uint8 [B, H, W, C]: round(clip((x + 1) / 2 * 255, 0, 255)), as the
    official evaluation writes its images; HWC is what PNG/WebP encoders take without a transpose."""
    return torch.round(torch.clamp((images + 1) / 2 * 255, 0, 255)).to(torch.uint8).permute(0, 2, 3, 1)


def sample(net: nn.Module, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
           t_max: Tensor, nfe: int) -> Tensor:
    """The served sampler: method.py's one step (1-NFE) or its mean-flow grid (k-NFE)."""
    if nfe == 1:
        return sample_one_step(net, noise, label, guidance, t_min, t_max)
    return sample_mean_flow(net, noise, label, guidance, t_min, t_max, nfe)


def check_nfe(nfe: int) -> int:
    if nfe not in (1, 2):
        raise ValueError(f"nfe must be 1 or 2, got {nfe}")
    return nfe


def through_levels(pixels: Tensor, levels: Tensor) -> Tensor:
    """uint8 [B, H, W, C] through the per-channel curve levels [C, 256]: one Gather on the
    flattened curves, channel c's entries starting at c * 256."""
    offsets = torch.arange(levels.shape[0], dtype=torch.int64) * levels.shape[1]
    return levels.reshape(-1)[pixels.to(torch.int64) + offsets]


class PixelSampler(nn.Module):
    """A pixel model's graph: the sampler, then the pixels, then the output levels if it has any
    (uint8 [C, 256], core/levels.py)."""

    def __init__(self, net: nn.Module, nfe: int = 1, levels=None):
        super().__init__()
        self.net = net
        self.nfe = check_nfe(nfe)
        self.levels = None if levels is None else torch.as_tensor(levels, dtype=torch.uint8)

    def forward(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
                t_max: Tensor) -> Tensor:
        pixels = to_pixels(sample(self.net, noise, label, guidance, t_min, t_max, self.nfe))
        return pixels if self.levels is None else through_levels(pixels, self.levels)


class LatentSampler(nn.Module):
    """A latent model's graph: the sampler in latent space (t from 1 to 0 in `nfe` equal steps; no
    clamping, latents are unbounded), then as the official evaluation decodes:
    VAE.decode(latent * std + mean), then the pixels."""

    def __init__(self, net: nn.Module, vae, mean, std, nfe: int = 1):
        super().__init__()
        self.net = net
        self.nfe = check_nfe(nfe)
        self.post_quant_conv = vae.post_quant_conv  # None where the VAE config has none
        self.decoder = vae.decoder
        c = len(mean)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, c, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, c, 1, 1))

    def latent(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
               t_max: Tensor) -> Tensor:
        return sample(self.net, noise, label, guidance, t_min, t_max, self.nfe)

    def decode(self, latent: Tensor) -> Tensor:
        """The VAE's image in [-1, 1] (NCHW, floats) for a latent."""
        z = latent * self.std + self.mean
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        return self.decoder(z)

    def forward(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
                t_max: Tensor) -> Tensor:
        return to_pixels(self.decode(self.latent(noise, label, guidance, t_min, t_max)))


def served_parameters(module: nn.Module) -> int:
    """Parameters the graph computes with (the network's v head is left out)."""
    return sum(p.numel() for n, p in module.named_parameters() if not n.startswith("net.v_"))
