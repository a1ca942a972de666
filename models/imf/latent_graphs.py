"""The two graphs a latent model is served as: the generator (noise, class, guidance, t_min,
t_max -> latent: the official 1- or 2-NFE sampler, unrolled) and the decoder (latent -> 8-bit RGB
pixels, HWC, with the official per-channel latent de-normalisation and pixel rounding inside)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .official_net import OfficialImfDiT

GENERATOR_INPUTS = ["noise", "class", "guidance", "t_min", "t_max"]
GENERATOR_OUTPUTS = ["latent"]
DECODER_INPUTS = ["latent"]
DECODER_OUTPUTS = ["image"]


class LatentGenerator(nn.Module):
    """The official sampler: t goes 1 -> 0 in `nfe` equal steps, z <- z - h * u(z, h, ...) with
    h = 1 / nfe (the network sees h = t - r only, never t). No clamping: latents are unbounded."""

    def __init__(self, net: OfficialImfDiT, nfe: int = 1):
        super().__init__()
        if nfe not in (1, 2):
            raise ValueError(f"nfe must be 1 or 2, got {nfe}")
        self.net = net
        self.nfe = nfe

    def forward(self, noise: Tensor, label: Tensor, guidance: Tensor, t_min: Tensor,
                t_max: Tensor) -> Tensor:
        step = 1.0 / self.nfe
        h = torch.full_like(guidance, step)
        z = noise
        for _ in range(self.nfe):
            z = z - step * self.net.u(z, h, guidance, t_min, t_max, label)
        return z


class LatentDecoder(nn.Module):
    """latent [B, C, L, L] -> uint8 pixels [B, H, W, channels] (HWC, what PNG/WebP encoders take
    without a transpose). As the official evaluation does: decode(latent * std + mean), then
    round(clip((x + 1) / 2 * 255, 0, 255)). `pixels=False` keeps the float output in [-1, 1]
    (NCHW), for parity checks of the decoder's arithmetic."""

    def __init__(self, vae, mean, std, pixels: bool = True):
        super().__init__()
        self.post_quant_conv = vae.post_quant_conv  # None where the config has none
        self.decoder = vae.decoder
        c = len(mean)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, c, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, c, 1, 1))
        self.pixels = pixels

    def forward(self, latent: Tensor) -> Tensor:
        z = latent * self.std + self.mean
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        x = self.decoder(z)
        if not self.pixels:
            return x
        rgb = torch.round(torch.clamp((x + 1) / 2 * 255, 0, 255)).to(torch.uint8)
        return rgb.permute(0, 2, 3, 1)


def decoder_parameters(vae) -> int:
    modules = [vae.decoder] + ([vae.post_quant_conv] if vae.post_quant_conv is not None else [])
    return sum(p.numel() for m in modules for p in m.parameters())


def generator_parameters(net: OfficialImfDiT) -> int:
    """Parameters the served u path uses (the checkpoint's v_final_layer is left out)."""
    return sum(p.numel() for n, p in net.named_parameters() if not n.startswith("v_final_layer."))
