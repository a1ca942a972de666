"""The network of the official iMF ImageNet-256 checkpoints (Lyy-iiis/imeanflow, branch `torch`,
`imfDiT` in inference mode), rebuilt so that its state dict has the official names and shapes and
an official `.pth` loads into it strictly. Its size (hidden width, shared and u-head depth, heads,
patch, token counts) is read from the checkpoint itself, so B/2, M/2, L/2 and XL/2 all load.

What differs from the official code is only how things are computed, never what: rotary position
embedding rotates real feature pairs instead of complex numbers (neither ONNX exporter takes
complex tensors), and the auxiliary v head is not built (the published checkpoints carry none; only
`v_final_layer`, which is loaded and left unused)."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from imf.core.network import RMSNorm

PREFIX = "net."
RMS_EPS = 1e-6
ROPE_THETA = 10000.0


class CheckpointFormatError(ValueError):
    """A file that is not an official iMF checkpoint of a servable shape; the message says why."""


class WrappedLinear(nn.Module):
    """nn.Linear held as `_flax_linear`: the official checkpoints keep their linear weights under
    that name (a leftover of the JAX port)."""

    def __init__(self, in_features: int, out_features: int, bias: bool):
        super().__init__()
        self._flax_linear = nn.Linear(in_features, out_features, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self._flax_linear(x)


class WrappedEmbedding(nn.Module):
    """nn.Embedding held as `_flax_embedding`, as in the official checkpoints."""

    def __init__(self, rows: int, dim: int):
        super().__init__()
        self._flax_embedding = nn.Embedding(rows, dim)

    def forward(self, index: Tensor) -> Tensor:
        return self._flax_embedding(index)


@dataclass(frozen=True)
class OfficialConfig:
    """Everything that sizes the network; all but latent_size come from the checkpoint."""

    hidden_size: int = 768
    shared_depth: int = 4
    u_head_depth: int = 8
    head_dim: int = 64
    mlp_hidden: int = 2048
    patch_size: int = 2
    channels: int = 4
    num_classes: int = 1000
    class_tokens: int = 8
    omega_tokens: int = 4
    t_min_tokens: int = 2
    t_max_tokens: int = 2
    time_tokens: int = 4
    frequency_dim: int = 256
    latent_size: int = 32

    @property
    def num_heads(self) -> int:
        return self.hidden_size // self.head_dim

    @property
    def depth(self) -> int:
        """The official `depth`: shared blocks plus one head."""
        return self.shared_depth + self.u_head_depth

    @property
    def prefix_tokens(self) -> int:
        return (self.class_tokens + self.omega_tokens + self.t_min_tokens + self.t_max_tokens
                + self.time_tokens)

    @property
    def num_patches(self) -> int:
        return (self.latent_size // self.patch_size) ** 2

    @property
    def null_class(self) -> int:
        return self.num_classes

    def to_dict(self) -> dict:
        return asdict(self)


# The published sizes: (hidden, shared depth, u-head depth, patch) -> name. The official `depth`
# counts the shared blocks and one head: B/2 is depth 12 = 4 shared + 8.
SIZES = {
    (768, 4, 8, 2): "B/2",
    (768, 16, 8, 2): "M/2",
    (1024, 24, 8, 2): "L/2",
    (1024, 40, 8, 2): "XL/2",
}


def size_name(cfg: OfficialConfig) -> str | None:
    return SIZES.get((cfg.hidden_size, cfg.shared_depth, cfg.u_head_depth, cfg.patch_size))


# -- blocks ---------------------------------------------------------------------------------------

def rope_tables(head_dim: int, positions: int, theta: float = ROPE_THETA) -> tuple[Tensor, Tensor]:
    """cos and sin of the rotary angle of each position and feature pair, [positions, 1,
    head_dim/2] (the 1 broadcasts over heads; shaped once here so the exported graph shares one
    table instead of a reshaped copy per use)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(positions, dtype=torch.float32), inv_freq)[:, None, :]
    return angles.cos(), angles.sin()


def rotate_pairs(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate adjacent feature pairs (x[2i], x[2i+1]) of x [B, T, heads, D] by their position's
    angle (tables from rope_tables): the official complex multiplication, with real tensors."""
    pairs = x.unflatten(-1, (-1, 2))
    a, b = pairs[..., 0], pairs[..., 1]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


class RoPEAttention(nn.Module):
    def __init__(self, hidden: int, head_dim: int):
        super().__init__()
        self.head_dim = head_dim
        self.heads = hidden // head_dim
        self.q_proj = WrappedLinear(hidden, hidden, bias=False)
        self.k_proj = WrappedLinear(hidden, hidden, bias=False)
        self.v_proj = WrappedLinear(hidden, hidden, bias=False)
        self.out_proj = WrappedLinear(hidden, hidden, bias=False)
        self.q_norm = RMSNorm(head_dim, eps=RMS_EPS)
        self.k_norm = RMSNorm(head_dim, eps=RMS_EPS)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        b, t, d = x.shape
        split = lambda y: y.reshape(b, t, self.heads, self.head_dim)  # noqa: E731
        q = rotate_pairs(self.q_norm(split(self.q_proj(x))), cos, sin)
        k = rotate_pairs(self.k_norm(split(self.k_proj(x))), cos, sin)
        v = split(self.v_proj(x))
        q, k, v = (y.transpose(1, 2) for y in (q, k, v))  # [B, heads, T, D]
        weights = torch.softmax((q * self.head_dim ** -0.5) @ k.transpose(-2, -1), dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(b, t, d))


class SwiGLUMlp(nn.Module):
    def __init__(self, hidden: int, inner: int):
        super().__init__()
        self.w1 = WrappedLinear(hidden, inner, bias=False)
        self.w3 = WrappedLinear(hidden, inner, bias=False)
        self.w2 = WrappedLinear(inner, hidden, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    """x + attn_scale * Attn(RMSNorm(x)), then x + mlp_scale * SwiGLU(RMSNorm(x))."""

    def __init__(self, cfg: OfficialConfig):
        super().__init__()
        d = cfg.hidden_size
        self.norm1 = RMSNorm(d, eps=RMS_EPS)
        self.attn = RoPEAttention(d, cfg.head_dim)
        self.norm2 = RMSNorm(d, eps=RMS_EPS)
        self.mlp = SwiGLUMlp(d, cfg.mlp_hidden)
        self.attn_scale = nn.Parameter(torch.zeros(d))
        self.mlp_scale = nn.Parameter(torch.zeros(d))

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x), cos, sin) * self.attn_scale
        return x + self.mlp(self.norm2(x)) * self.mlp_scale


class TimestepEmbedder(nn.Module):
    """A scalar (h, 1 - 1/omega, t_min or t_max, used as is) -> sinusoids -> MLP."""

    def __init__(self, hidden: int, frequency_dim: int, max_period: float = 10000.0):
        super().__init__()
        half = frequency_dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)
        self.odd = frequency_dim % 2
        self.mlp = nn.Sequential(WrappedLinear(frequency_dim, hidden, bias=True), nn.SiLU(),
                                 WrappedLinear(hidden, hidden, bias=True))

    def forward(self, s: Tensor) -> Tensor:
        args = s.float()[:, None] * self.freqs[None]
        parts = [args.cos(), args.sin()]
        if self.odd:
            parts.append(torch.zeros_like(args[:, :1]))
        return self.mlp(torch.cat(parts, dim=-1))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes: int, hidden: int):
        super().__init__()
        self.embedding_table = WrappedEmbedding(num_classes + 1, hidden)  # last row: null class

    def forward(self, y: Tensor) -> Tensor:
        return self.embedding_table(y)


class PatchEmbedder(nn.Module):
    def __init__(self, channels: int, hidden: int, patch: int):
        super().__init__()
        self.proj = nn.Conv2d(channels, hidden, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, patches in row-major order, hidden]


class FinalLayer(nn.Module):
    def __init__(self, hidden: int, out_features: int):
        super().__init__()
        self.norm = RMSNorm(hidden, eps=RMS_EPS)
        self.linear = WrappedLinear(hidden, out_features, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.norm(x))


class OfficialImfDiT(nn.Module):
    """The inference-mode official imfDiT: u(z, h, omega, t_min, t_max, y). Like the official
    network it is conditioned on h = t - r only."""

    def __init__(self, cfg: OfficialConfig):
        super().__init__()
        if cfg.hidden_size % cfg.head_dim or cfg.head_dim % 2:
            raise CheckpointFormatError(f"hidden size {cfg.hidden_size} is not a whole number of "
                                        f"even-sized heads of {cfg.head_dim}")
        if cfg.latent_size % cfg.patch_size:
            raise CheckpointFormatError(f"latent size {cfg.latent_size} is not a multiple of the "
                                        f"patch size {cfg.patch_size}")
        self.cfg = cfg
        d = cfg.hidden_size
        self.x_embedder = PatchEmbedder(cfg.channels, d, cfg.patch_size)
        self.h_embedder = TimestepEmbedder(d, cfg.frequency_dim)
        self.omega_embedder = TimestepEmbedder(d, cfg.frequency_dim)
        self.cfg_t_start_embedder = TimestepEmbedder(d, cfg.frequency_dim)
        self.cfg_t_end_embedder = TimestepEmbedder(d, cfg.frequency_dim)
        self.y_embedder = LabelEmbedder(cfg.num_classes, d)
        self.time_tokens = nn.Parameter(torch.zeros(cfg.time_tokens, d))
        self.class_tokens = nn.Parameter(torch.zeros(cfg.class_tokens, d))
        self.omega_tokens = nn.Parameter(torch.zeros(cfg.omega_tokens, d))
        self.t_min_tokens = nn.Parameter(torch.zeros(cfg.t_min_tokens, d))
        self.t_max_tokens = nn.Parameter(torch.zeros(cfg.t_max_tokens, d))
        self.shared_blocks = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.shared_depth))
        self.u_heads = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.u_head_depth))
        out = cfg.patch_size * cfg.patch_size * cfg.channels
        self.u_final_layer = FinalLayer(d, out)
        self.v_final_layer = FinalLayer(d, out)  # in every checkpoint; the served graph skips it
        cos, sin = rope_tables(cfg.head_dim, cfg.prefix_tokens + cfg.num_patches)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def sequence(self, z: Tensor, h: Tensor, omega: Tensor, t_min: Tensor, t_max: Tensor,
                 y: Tensor) -> Tensor:
        """Prefix tokens in the official order (class, omega, t_min, t_max, time), each group a
        learned token block plus its condition's embedding, then the patch tokens."""
        def group(tokens: Tensor, embedding: Tensor) -> Tensor:
            return tokens[None] + embedding[:, None]

        return torch.cat([
            group(self.class_tokens, self.y_embedder(y)),
            group(self.omega_tokens, self.omega_embedder(1 - 1 / omega)),
            group(self.t_min_tokens, self.cfg_t_start_embedder(t_min)),
            group(self.t_max_tokens, self.cfg_t_end_embedder(t_max)),
            group(self.time_tokens, self.h_embedder(h)),
            self.x_embedder(z),
        ], dim=1)

    def unpatchify(self, tokens: Tensor) -> Tensor:
        """[B, n*n, p*p*C] (features ordered p, p, C) -> [B, C, n*p, n*p]."""
        cfg = self.cfg
        b, p, c = tokens.shape[0], cfg.patch_size, cfg.channels
        n = cfg.latent_size // p
        x = tokens.reshape(b, n, n, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, n * p, n * p)

    def u(self, z: Tensor, h: Tensor, omega: Tensor, t_min: Tensor, t_max: Tensor,
          y: Tensor) -> Tensor:
        """The average velocity u over [t - h, t] (the official `forward(...)[0]`)."""
        seq = self.sequence(z, h, omega, t_min, t_max, y)
        for block in (*self.shared_blocks, *self.u_heads):
            seq = block(seq, self.rope_cos, self.rope_sin)
        return self.unpatchify(self.u_final_layer(seq[:, self.cfg.prefix_tokens:]))

    forward = u


class ImportedModel(nn.Module):
    """Holds the network as `net`, so that the state dict's keys carry the official `net.` prefix."""

    def __init__(self, cfg: OfficialConfig):
        super().__init__()
        self.net = OfficialImfDiT(cfg)


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


def infer_config(state: dict[str, Tensor], latent_size: int = 32) -> OfficialConfig:
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
    return OfficialConfig(
        hidden_size=hidden, shared_depth=shared, u_head_depth=u_head, head_dim=head_dim,
        mlp_hidden=mlp_hidden, patch_size=p, channels=channels, num_classes=table.shape[0] - 1,
        class_tokens=rows("class_tokens"), omega_tokens=rows("omega_tokens"),
        t_min_tokens=rows("t_min_tokens"), t_max_tokens=rows("t_max_tokens"),
        time_tokens=rows("time_tokens"), frequency_dim=freq, latent_size=latent_size)


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


def load_strict(model: nn.Module, state: dict[str, Tensor]) -> None:
    """load_state_dict(strict=True), with an error that names the missing, unexpected and
    mis-shaped keys instead of torch's wall of text."""
    problems = key_mismatch(model.state_dict(), state)
    if problems:
        raise CheckpointFormatError("checkpoint does not match the official iMF network: "
                                    + "; ".join(problems))
    floats = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(floats, strict=True)


def load_official(path: Path, latent_size: int = 32) -> tuple[OfficialImfDiT, dict[str, Tensor]]:
    """The network of an official checkpoint, in float32 and eval mode, and its state dict."""
    state = read_state_dict(path)
    cfg = infer_config(state, latent_size)
    model = ImportedModel(cfg)
    load_strict(model, state)
    return model.net.eval(), state
