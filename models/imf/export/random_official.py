"""Random-weight stand-ins for the files a user imports (an official iMF checkpoint and a diffusers
VAE folder), for tests, the benchmark and the worker's fixtures: the real weights cannot be
downloaded here. Nothing built from these is a model; the importer labels it so.

The official initialisation zeroes the residual gates and the final layers, so a freshly built
network outputs u = 0; these checkpoints give every tensor random values instead."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from imf.core.config import ModelConfig
from imf.export.official_net import SIZES, official_config, official_shapes
from imf.export.vae import SD_VAE_FT_MSE_CONFIG, TINY_VAE_CONFIG, build_vae, write_vae_folder

# The exact architecture at toy size: 1 shared block + a 2-block u head, d = 128 (two 64-wide
# heads), 1000 classes, the official token counts, a 4x8x8 latent.
TINY = official_config(hidden_size=128, shared_depth=1, head_depth=2, latent_size=8)


def full_size(name: str) -> ModelConfig:
    """The published configuration called `name` (B/2, M/2, L/2, XL/2) at 32x32 latents."""
    for (hidden, shared, u_head, patch), size in SIZES.items():
        if size == name:
            return official_config(hidden, shared, u_head, 32, patch_size=patch)
    raise ValueError(f"unknown size {name!r}; known: {', '.join(SIZES.values())}")


def random_state(cfg: ModelConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict with the official key names, every tensor random at a scale that keeps
    activations O(1): gates and final layers non-zero, norms near one."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in official_shapes(cfg).items():
        noise = torch.randn(shape, generator=g)
        if name.endswith(("_scale",)):
            value = 0.2 * noise
        elif "norm" in name:
            value = 1.0 + 0.1 * noise
        elif name.endswith("bias"):
            value = 0.02 * noise
        elif name.endswith("_tokens") or "embedding" in name:
            value = noise / math.sqrt(cfg.hidden_size)
        else:  # linear and patch-embedding weights: unit gain on the input's fan-in
            value = noise / math.sqrt(math.prod(shape[1:]))
        state[name] = value.contiguous()
    return state


def write_checkpoint(path: Path, cfg: ModelConfig, seed: int = 0) -> Path:
    """A `.pth` laid out like the official ones: torch.save of a flat state dict."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_state(cfg, seed), str(path))
    return path


def write_vae(folder: Path, config: dict, seed: int = 0, **kwargs) -> Path:
    """A diffusers-format folder with a random AutoencoderKL of `config`. Its output layer is
    scaled so decoded pixels spread over 0..255 instead of sitting near mid-grey."""
    torch.manual_seed(seed)
    vae = build_vae(config)
    with torch.no_grad():
        vae.decoder.conv_out.weight.mul_(2.0)
    write_vae_folder(folder, vae, config, **kwargs)
    return Path(folder)


def write_sources(folder: Path, size: str = "tiny", seed: int = 0) -> tuple[Path, Path, int]:
    """(checkpoint, VAE folder, latent size) for `size`: 'tiny' (the toy architecture with a tiny
    VAE) or a published size with an sd-vae-ft-mse-shaped VAE."""
    folder = Path(folder)
    cfg, vae_config = (TINY, TINY_VAE_CONFIG) if size == "tiny" else (full_size(size),
                                                                     SD_VAE_FT_MSE_CONFIG)
    checkpoint = write_checkpoint(folder / f"random-{size.replace('/', '-')}.pth", cfg, seed)
    vae = write_vae(folder / "vae", vae_config, seed)
    return checkpoint, vae, cfg.image_size
