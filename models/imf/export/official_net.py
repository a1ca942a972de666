"""The official iMF ImageNet-256 checkpoint format (Lyy-iiis/imeanflow, branch `torch`, `imfDiT` in
inference mode) and its name map onto this repository's one network (core/network.py): an official
`.pth` is checked strictly against the names and shapes the official code gives a network of its
size (read from the checkpoint itself, so B/2, M/2, L/2 and XL/2 all load), then each tensor is
renamed and, where the layouts differ, rearranged:

- q, k and v projections are fused into one `qkv`, the SwiGLU's w1 and w3 into one `gate_up`;
- the patch embedding's convolution becomes the equivalent linear map over the patch's pixels;
- rotary position embedding: the official code rotates adjacent feature pairs as complex numbers,
  imfDiT rotates the first half of a head against the second; permuting each head's q and k
  features (and their norms' weights) from pair order to half order gives the same attention;
- the published files carry `v_final_layer` but no v-head blocks, so the network is built without
  the auxiliary head (`aux_head=False`) and the map leaves `v_final_layer` out."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import Tensor

from imf.core.config import ModelConfig
from imf.core.network import ImfDiT

PREFIX = "net."


class CheckpointFormatError(ValueError):
    """A file that is not an official iMF checkpoint of a servable shape; the message says why."""


# The published sizes: (hidden, shared depth, u-head depth, patch) -> name. The official `depth`
# counts the shared blocks and one head: B/2 is depth 12 = 4 shared + 8.
SIZES = {
    (768, 4, 8, 2): "B/2",
    (768, 16, 8, 2): "M/2",
    (1024, 24, 8, 2): "L/2",
    (1024, 40, 8, 2): "XL/2",
}


def size_name(cfg: ModelConfig) -> str | None:
    return SIZES.get((cfg.hidden_size, cfg.shared_depth, cfg.head_depth, cfg.patch_size))


def official_config(hidden_size: int, shared_depth: int, head_depth: int, latent_size: int,
                    head_dim: int = 64, mlp_hidden: int | None = None, **fields) -> ModelConfig:
    """The network of an official checkpoint of this size: 4-channel latents, patch 2, 1000
    classes, the official token counts and sinusoid width, no position embedding, no v head."""
    base = dict(image_size=latent_size, channels=4, patch_size=2, hidden_size=hidden_size,
                num_heads=hidden_size // head_dim, shared_depth=shared_depth,
                head_depth=head_depth, num_classes=1000, class_tokens=8, omega_tokens=4,
                t_min_tokens=2, t_max_tokens=2, time_tokens=4, frequency_dim=256,
                pos_embed=False, aux_head=False)
    base.update(fields)
    inner = mlp_hidden if mlp_hidden is not None else int(hidden_size * 8 / 3)
    return ModelConfig(mlp_ratio=inner / hidden_size, **base)


def official_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every key of an official checkpoint of this size, with its shape as torch stores it."""
    d, p, c, hd = cfg.hidden_size, cfg.patch_size, cfg.channels, cfg.head_dim
    out = p * p * c
    shapes = {f"{PREFIX}{group}_tokens": (getattr(cfg, f"{group}_tokens"), d)
              for group in ("time", "class", "omega", "t_min", "t_max")}
    shapes.update({
        f"{PREFIX}x_embedder.proj.weight": (d, c, p, p), f"{PREFIX}x_embedder.proj.bias": (d,),
        f"{PREFIX}y_embedder.embedding_table._flax_embedding.weight": (cfg.num_classes + 1, d),
    })
    for layer in ("u_final_layer", "v_final_layer"):
        shapes.update({f"{PREFIX}{layer}.norm.weight": (d,),
                       f"{PREFIX}{layer}.linear._flax_linear.weight": (out, d),
                       f"{PREFIX}{layer}.linear._flax_linear.bias": (out,)})
    for emb in OFFICIAL_EMBEDDERS.values():
        shapes.update({f"{PREFIX}{emb}.mlp.0._flax_linear.weight": (d, cfg.frequency_dim),
                       f"{PREFIX}{emb}.mlp.0._flax_linear.bias": (d,),
                       f"{PREFIX}{emb}.mlp.2._flax_linear.weight": (d, d),
                       f"{PREFIX}{emb}.mlp.2._flax_linear.bias": (d,)})
    block = {"attn_scale": (d,), "mlp_scale": (d,), "norm1.weight": (d,), "norm2.weight": (d,),
             "attn.q_proj._flax_linear.weight": (d, d), "attn.k_proj._flax_linear.weight": (d, d),
             "attn.v_proj._flax_linear.weight": (d, d), "attn.out_proj._flax_linear.weight": (d, d),
             "attn.q_norm.weight": (hd,), "attn.k_norm.weight": (hd,),
             "mlp.w1._flax_linear.weight": (cfg.mlp_hidden, d),
             "mlp.w3._flax_linear.weight": (cfg.mlp_hidden, d),
             "mlp.w2._flax_linear.weight": (d, cfg.mlp_hidden)}
    for group, depth in (("shared_blocks", cfg.shared_depth), ("u_heads", cfg.head_depth)):
        for i in range(depth):
            shapes.update({f"{PREFIX}{group}.{i}.{k}": v for k, v in block.items()})
    return shapes


# imfDiT's scalar embedders and the official names of the same
OFFICIAL_EMBEDDERS = {"h_embed": "h_embedder", "omega_embed": "omega_embedder",
                      "t_min_embed": "cfg_t_start_embedder", "t_max_embed": "cfg_t_end_embedder"}
OFFICIAL_BLOCKS = {"trunk": "shared_blocks", "u_head": "u_heads"}


# -- reading a checkpoint -------------------------------------------------------------------------

def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A flat {name: tensor} from an official `.pth` (or a `.safetensors` holding the same),
    refusing anything else with a sentence that says what the file is instead."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as err:
            raise CheckpointFormatError(f"{path} is not a state dict: not a readable safetensors "
                                        f"file ({err})") from err
    try:
        # weights_only: a checkpoint is data; unpickling arbitrary objects would run code
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for files that are not checkpoints
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointFormatError(f"{path} is not a state dict: torch.load cannot read it "
                                    f"({first[:200]})") from err
    if not isinstance(state, dict):
        raise CheckpointFormatError(f"{path} is not a state dict: it holds a "
                                    f"{type(state).__name__}, not a mapping of names to tensors")
    bad = [k for k, v in state.items() if not (isinstance(k, str) and isinstance(v, Tensor))]
    if bad:
        hint = ""
        if any(isinstance(state.get(k), dict) for k in ("model", "state_dict", "ema")):
            hint = " (it looks like a training checkpoint that wraps one; the official files are flat)"
        raise CheckpointFormatError(f"{path} is not a state dict: entry {bad[0]!r} is not a "
                                    f"tensor{hint}")
    return state


def _need(state: dict[str, Tensor], key: str, dims: int) -> Tensor:
    if key not in state:
        raise CheckpointFormatError(f"missing key {key!r}: not an official iMF checkpoint "
                                    f"(its keys start with {', '.join(sorted(state)[:3])})")
    t = state[key]
    if t.dim() != dims:
        raise CheckpointFormatError(f"key {key!r} has shape {tuple(t.shape)}, expected "
                                    f"{dims} dimensions")
    return t


def _block_count(state: dict[str, Tensor], group: str) -> int:
    pattern = re.compile(rf"^{re.escape(PREFIX + group)}\.(\d+)\.")
    found = {int(m.group(1)) for k in state if (m := pattern.match(k))}
    return max(found) + 1 if found else 0


def infer_config(state: dict[str, Tensor], latent_size: int = 32) -> ModelConfig:
    """The network size, read from the shapes of the checkpoint's tensors."""
    patch_w = _need(state, PREFIX + "x_embedder.proj.weight", 4)  # [d, C, p, p]
    hidden, channels, p, p2 = patch_w.shape
    if p != p2:
        raise CheckpointFormatError(f"patch kernel is {p}x{p2}; only square patches are supported")
    shared, u_head = _block_count(state, "shared_blocks"), _block_count(state, "u_heads")
    if u_head == 0:
        raise CheckpointFormatError(f"no {PREFIX}u_heads.* keys: not an official iMF checkpoint")
    first = f"{PREFIX}{'shared_blocks' if shared else 'u_heads'}.0."
    head_dim = _need(state, first + "attn.q_norm.weight", 1).shape[0]
    mlp_hidden = _need(state, first + "mlp.w1._flax_linear.weight", 2).shape[0]
    table = _need(state, PREFIX + "y_embedder.embedding_table._flax_embedding.weight", 2)
    freq = _need(state, PREFIX + "h_embedder.mlp.0._flax_linear.weight", 2).shape[1]
    rows = lambda name: _need(state, PREFIX + name, 2).shape[0]  # noqa: E731
    if hidden % head_dim or head_dim % 2 or freq % 2:
        raise CheckpointFormatError(f"hidden size {hidden} is not a whole number of even-sized "
                                    f"heads of {head_dim}, or the sinusoid width {freq} is odd")
    if latent_size % p:
        raise CheckpointFormatError(f"latent size {latent_size} is not a multiple of the patch "
                                    f"size {p}")
    return official_config(
        hidden, shared, u_head, latent_size, head_dim=head_dim, mlp_hidden=mlp_hidden,
        channels=channels, patch_size=p, num_classes=table.shape[0] - 1,
        class_tokens=rows("class_tokens"), omega_tokens=rows("omega_tokens"),
        t_min_tokens=rows("t_min_tokens"), t_max_tokens=rows("t_max_tokens"),
        time_tokens=rows("time_tokens"), frequency_dim=freq)


def _listing(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def key_mismatch(expected: dict[str, Tensor], state: dict[str, Tensor],
                 required: list[str] | None = None) -> list[str]:
    """What keeps `state` from loading strictly where `expected` is wanted: phrases naming the
    missing (of `required`, by default every expected key), unexpected and mis-shaped keys."""
    required = list(expected) if required is None else required
    missing = [k for k in required if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
                 for k in state if k in expected and state[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"missing key(s) {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected key(s) {_listing(unexpected)}")
    if misshaped:
        problems.append(f"mis-shaped key(s) {_listing(misshaped)}")
    return problems


def check_official(state: dict[str, Tensor], cfg: ModelConfig) -> None:
    """Refuses, naming the missing, unexpected and mis-shaped keys, a state dict that is not
    exactly an official checkpoint of this size."""
    expected = {k: torch.empty(shape, device="meta") for k, shape in official_shapes(cfg).items()}
    problems = key_mismatch(expected, state)
    if problems:
        raise CheckpointFormatError("checkpoint does not match the official iMF network: "
                                    + "; ".join(problems))


# -- the name map ---------------------------------------------------------------------------------

def pairs_to_halves(head_dim: int) -> Tensor:
    """Feature order of one head: the official pairs (x0, x1), (x2, x3), ... become imfDiT's halves
    (x0, x2, ..., x1, x3, ...), so that pair i rotates by the same angle in both."""
    return torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])


def to_network_state(state: dict[str, Tensor], cfg: ModelConfig) -> dict[str, Tensor]:
    """An official state dict (checked by check_official) as imfDiT's state dict, in float32."""
    get = lambda name: state[PREFIX + name].float()  # noqa: E731
    d, hd, heads = cfg.hidden_size, cfg.head_dim, cfg.num_heads
    order = pairs_to_halves(hd)
    by_head = lambda w: w.reshape(heads, hd, -1)[:, order].reshape(d, -1)  # noqa: E731
    out = {f"{g}_tokens": get(f"{g}_tokens") for g in ("class", "omega", "t_min", "t_max", "time")}
    out["patch_embed.weight"] = get("x_embedder.proj.weight").permute(0, 2, 3, 1).reshape(d, -1)
    out["patch_embed.bias"] = get("x_embedder.proj.bias")
    out["class_embed.weight"] = get("y_embedder.embedding_table._flax_embedding.weight")
    for ours, theirs in OFFICIAL_EMBEDDERS.items():
        for i in (0, 2):
            for kind in ("weight", "bias"):
                out[f"{ours}.mlp.{i}.{kind}"] = get(f"{theirs}.mlp.{i}._flax_linear.{kind}")
    for ours, theirs in OFFICIAL_BLOCKS.items():
        for i in range(getattr(cfg, "shared_depth" if ours == "trunk" else "head_depth")):
            src, dst = f"{theirs}.{i}.", f"{ours}.{i}."
            w = lambda name: get(f"{src}{name}._flax_linear.weight")  # noqa: E731,B023
            out[dst + "attn_gate"] = get(src + "attn_scale")
            out[dst + "mlp_gate"] = get(src + "mlp_scale")
            out[dst + "norm1.weight"] = get(src + "norm1.weight")
            out[dst + "norm2.weight"] = get(src + "norm2.weight")
            out[dst + "attn.qkv.weight"] = torch.cat([by_head(w("attn.q_proj")),
                                                      by_head(w("attn.k_proj")), w("attn.v_proj")])
            out[dst + "attn.out.weight"] = w("attn.out_proj")
            out[dst + "attn.q_norm.weight"] = get(src + "attn.q_norm.weight")[order]
            out[dst + "attn.k_norm.weight"] = get(src + "attn.k_norm.weight")[order]
            out[dst + "mlp.gate_up.weight"] = torch.cat([w("mlp.w1"), w("mlp.w3")])
            out[dst + "mlp.down.weight"] = w("mlp.w2")
    out["u_out.norm.weight"] = get("u_final_layer.norm.weight")
    out["u_out.linear.weight"] = get("u_final_layer.linear._flax_linear.weight")
    out["u_out.linear.bias"] = get("u_final_layer.linear._flax_linear.bias")
    return out


def load_official(path: Path, latent_size: int = 32) -> tuple[ImfDiT, dict[str, Tensor]]:
    """The network of an official checkpoint, in float32 and eval mode, and its state dict."""
    state = read_state_dict(path)
    cfg = infer_config(state, latent_size)
    check_official(state, cfg)
    net = ImfDiT(cfg)
    net.load_state_dict(to_network_state(state, cfg), strict=True)
    return net.eval(), state
