"""The latent decoder of the official iMF ImageNet models: a diffusers AutoencoderKL read from a
local diffusers-format folder (config.json + diffusion_pytorch_model.safetensors or .bin), built
offline from its config (any AutoencoderKL config), decoder weights loaded strictly. The encoder is
never needed: its weights may be present or absent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from torch import Tensor

from imf.export.official_net import CheckpointFormatError, key_mismatch

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
DECODER_PREFIXES = ("decoder.", "post_quant_conv.")

# The per-channel statistics the official iMF models were trained with: a latent x in the
# model's space is decoded as VAE.decode(x * LATENT_STD + LATENT_MEAN) (utils/vae_util.py of the
# official code), not with the usual single 0.18215 scale.
LATENT_MEAN = (0.86488, -0.27787343, 0.21616915, 0.3738409)
LATENT_STD = (4.85503674, 5.31922414, 3.93725398, 3.9870003)

# stabilityai/sd-vae-ft-mse's config.json, the VAE the official models decode with: written out
# from its published values so that tests and benchmarks can build a random instance offline.
SD_VAE_FT_MSE_CONFIG = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 256,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}

# A tiny AutoencoderKL of the same structure (4 levels: 8x upsampling) for fast tests.
TINY_VAE_CONFIG = {
    **SD_VAE_FT_MSE_CONFIG,
    "block_out_channels": [8, 8, 16, 16],
    "layers_per_block": 1,
    "norm_num_groups": 4,
    "sample_size": 64,
}

_LEGACY_ATTENTION = re.compile(r"^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$")
_RENAMED = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def build_vae(config: dict):
    """An AutoencoderKL with random weights from a config dict (no hub, no download)."""
    from diffusers import AutoencoderKL
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()  # unknown config keys (_diffusers_version, ...) are fine
    return AutoencoderKL.from_config(config)


def upsampling(config: dict) -> int:
    """How many pixels one latent cell becomes along each side."""
    return 2 ** (len(config.get("block_out_channels", [64])) - 1)


def _read_weights(path: Path) -> dict[str, Tensor]:
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as err:
            raise CheckpointFormatError(f"{path} is not a state dict: {err}") from err
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointFormatError(f"{path} is not a state dict: torch.load cannot read it "
                                    f"({str(err).strip()[:200]})") from err
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointFormatError(f"{path} is not a state dict of tensors")
    return state


def load_vae(folder: Path):
    """(AutoencoderKL in eval mode, its config dict, the weight file read) from a diffusers folder.
    Decoder-side keys must match exactly; legacy attention names (query/key/value/proj_attn, as in
    older diffusers uploads) are renamed as diffusers itself does."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"VAE folder {folder} not found")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: --vae must be a diffusers AutoencoderKL "
                                "folder (config.json + diffusion_pytorch_model.safetensors or .bin)")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointFormatError(f"{config_path} is not JSON: {err}") from err
    if not isinstance(config, dict):
        raise CheckpointFormatError(f"{config_path} does not hold a config object")
    kind = config.get("_class_name", "AutoencoderKL")
    if kind != "AutoencoderKL":
        raise CheckpointFormatError(f"{config_path} describes a {kind}, not an AutoencoderKL")
    weights = next((folder / n for n in WEIGHT_FILES if (folder / n).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"{folder} has no {' or '.join(WEIGHT_FILES)}")
    try:
        vae = build_vae(config)
    except (TypeError, ValueError) as err:
        raise CheckpointFormatError(f"{config_path} is not a valid AutoencoderKL config: {err}") from err
    state = {}
    for key, value in _read_weights(weights).items():
        m = _LEGACY_ATTENTION.match(key)
        state[f"{m.group(1)}.{_RENAMED[m.group(2)]}.{m.group(3)}" if m else key] = value
    expected = vae.state_dict()
    needed = [k for k in expected if k.startswith(DECODER_PREFIXES)]
    problems = key_mismatch(expected, state, required=needed)
    if problems:
        raise CheckpointFormatError(f"{weights} does not match its config.json: " + "; ".join(problems))
    decoder_state = {k: state[k].float() for k in needed}
    vae.load_state_dict(decoder_state, strict=False)  # the encoder is not used; all decoder keys checked above
    return vae.eval(), config, weights


def write_vae_folder(folder: Path, vae, config: dict, legacy_names: bool = False,
                     file_format: str = "safetensors") -> Path:
    """A diffusers-format folder holding `vae` (for tests and benchmarks; legacy_names writes the
    old attention key names some published folders still use)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    state = {k: v.detach().contiguous() for k, v in vae.state_dict().items()}
    if legacy_names:
        back = {v: k for k, v in _RENAMED.items()}
        renamed = {}
        for key, value in state.items():
            m = re.match(r"^(.*\.attentions\.\d+)\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$", key)
            renamed[f"{m.group(1)}.{back[m.group(2)]}.{m.group(3)}" if m else key] = value
        state = renamed
    if file_format == "safetensors":
        from safetensors.torch import save_file
        path = folder / WEIGHT_FILES[0]
        save_file(state, str(path))
    else:
        path = folder / WEIGHT_FILES[1]
        torch.save(state, str(path))
    return path
