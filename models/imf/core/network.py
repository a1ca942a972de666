"""imfDiT: the iMF network, sized by its config. A DiT with in-context conditioning (learned token
groups for class, omega, t_min, t_max and h = t - r prepended to the patch tokens), a shared trunk,
then the u head (average velocity) and, where the config has it, the auxiliary v head
(instantaneous velocity) of equal depth. The models trained here and the official ImageNet
checkpoints are both this class: the official files load strictly through the name map in
export/official_net.py. Everything is written with real tensors and plain ops so the graph exports
to ONNX."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from imf.core.config import ModelConfig


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(head_dim: int, seq_len: int, theta: float = 10000.0) -> tuple[Tensor, Tensor]:
    """cos and sin of the rotary angles, [seq_len, head_dim / 2], one position per token."""
    freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), freqs)
    return angles.cos(), angles.sin()


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate feature pairs (first half, second half) of x [B, heads, T, D] by the token's angle."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    """Multi-head self-attention with QK RMS-norm and rotary position embedding. `fused` picks
    F.scaled_dot_product_attention (training); the default explicit softmax is what ONNX export
    traces. Both compute the same function."""

    fused = False

    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden, bias=False)
        self.out = nn.Linear(hidden, hidden, bias=False)
        self.q_norm = RMSNorm(self.head_dim)
        self.k_norm = RMSNorm(self.head_dim)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        q = apply_rotary(self.q_norm(q), cos, sin)
        k = apply_rotary(self.k_norm(k), cos, sin)
        if self.fused:
            return self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, c))
        # explicit softmax attention: forward-mode AD (the JVP) and ONNX export both support it
        weights = torch.softmax((q @ k.transpose(-2, -1)) * (self.head_dim ** -0.5), dim=-1)
        return self.out((weights @ v).transpose(1, 2).reshape(b, t, c))


class SwiGLU(nn.Module):
    def __init__(self, hidden: int, inner: int):
        super().__init__()
        self.gate_up = nn.Linear(hidden, 2 * inner, bias=False)
        self.down = nn.Linear(inner, hidden, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    """Pre-norm transformer block; both residual branches pass through zero-initialised
    per-channel gates, so every block starts as the identity."""

    def __init__(self, hidden: int, heads: int, mlp_hidden: int):
        super().__init__()
        self.norm1 = RMSNorm(hidden)
        self.attn = Attention(hidden, heads)
        self.norm2 = RMSNorm(hidden)
        self.mlp = SwiGLU(hidden, mlp_hidden)
        self.attn_gate = nn.Parameter(torch.zeros(hidden))
        self.mlp_gate = nn.Parameter(torch.zeros(hidden))

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x), cos, sin) * self.attn_gate
        return x + self.mlp(self.norm2(x)) * self.mlp_gate


class ScalarEmbedder(nn.Module):
    """Sinusoidal embedding of a scalar in [0, 1] followed by an MLP."""

    def __init__(self, hidden: int, freq_dim: int = 128, max_period: float = 10000.0):
        super().__init__()
        half = freq_dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, s: Tensor) -> Tensor:
        # the value enters unscaled (frequencies 1e-4..1 rad per unit): the embedding stays
        # smooth in h, which keeps du/dh, and with it the JVP term of the target, well behaved
        args = s.to(self.freqs.dtype)[:, None] * self.freqs[None]
        return self.mlp(torch.cat([args.cos(), args.sin()], dim=-1))


class FinalLayer(nn.Module):
    def __init__(self, hidden: int, out_dim: int):
        super().__init__()
        self.norm = RMSNorm(hidden)
        self.linear = nn.Linear(hidden, out_dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.norm(x))


class ImfDiT(nn.Module):
    """u, v = net(z, h, omega, t_min, t_max, y). It conditions on h = t - r only, never on t."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        d, p, ch = cfg.hidden_size, cfg.patch_size, cfg.channels
        self.patch_embed = nn.Linear(p * p * ch, d)
        if cfg.pos_embed:
            self.pos_embed = nn.Parameter(torch.randn(cfg.num_patches, d) * 0.02)
        self.h_embed = ScalarEmbedder(d, cfg.frequency_dim)
        self.omega_embed = ScalarEmbedder(d, cfg.frequency_dim)
        self.t_min_embed = ScalarEmbedder(d, cfg.frequency_dim)
        self.t_max_embed = ScalarEmbedder(d, cfg.frequency_dim)
        self.class_embed = nn.Embedding(cfg.num_classes + 1, d)  # last row: the null class
        std = d ** -0.5
        self.class_tokens = nn.Parameter(torch.randn(cfg.class_tokens, d) * std)
        self.omega_tokens = nn.Parameter(torch.randn(cfg.omega_tokens, d) * std)
        self.t_min_tokens = nn.Parameter(torch.randn(cfg.t_min_tokens, d) * std)
        self.t_max_tokens = nn.Parameter(torch.randn(cfg.t_max_tokens, d) * std)
        self.time_tokens = nn.Parameter(torch.randn(cfg.time_tokens, d) * std)
        cos, sin = rotary_tables(d // cfg.num_heads, cfg.prefix_tokens + cfg.num_patches)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        block = lambda: Block(d, cfg.num_heads, cfg.mlp_hidden)  # noqa: E731
        self.trunk = nn.ModuleList(block() for _ in range(cfg.shared_depth))
        self.u_head = nn.ModuleList(block() for _ in range(cfg.head_depth))
        self.u_out = FinalLayer(d, p * p * ch)
        if cfg.aux_head:
            self.v_head = nn.ModuleList(block() for _ in range(cfg.head_depth))
            self.v_out = FinalLayer(d, p * p * ch)
        self._init_weights()

    def _init_weights(self) -> None:
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and not name.endswith(("u_out.linear", "v_out.linear")):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.class_embed.weight, std=0.02)

    def use_fused_attention(self, fused: bool = True) -> "ImfDiT":
        """Training switches to F.scaled_dot_product_attention; export keeps the explicit path."""
        for m in self.modules():
            if isinstance(m, Attention):
                m.fused = fused
        return self

    # -- tokens -----------------------------------------------------------------------------
    def patchify(self, x: Tensor) -> Tensor:
        b, c, hgt, wid = x.shape
        p = self.cfg.patch_size
        x = x.reshape(b, c, hgt // p, p, wid // p, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(b, (hgt // p) * (wid // p), p * p * c)

    def unpatchify(self, tokens: Tensor) -> Tensor:
        b = tokens.shape[0]
        p, c, n = self.cfg.patch_size, self.cfg.channels, self.cfg.image_size // self.cfg.patch_size
        x = tokens.reshape(b, n, n, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, n * p, n * p)

    def sequence(self, z: Tensor, h: Tensor, omega: Tensor, t_min: Tensor, t_max: Tensor,
                 y: Tensor) -> Tensor:
        """The token sequence: class, omega, t_min, t_max and time groups, then the patches.
        Omega enters through 1 - 1/omega, which maps [1, inf) to [0, 1)."""
        def group(tokens: Tensor, embedding: Tensor) -> Tensor:
            return tokens[None] + embedding[:, None]

        return torch.cat([
            group(self.class_tokens, self.class_embed(y)),
            group(self.omega_tokens, self.omega_embed(1.0 - 1.0 / omega)),
            group(self.t_min_tokens, self.t_min_embed(t_min)),
            group(self.t_max_tokens, self.t_max_embed(t_max)),
            group(self.time_tokens, self.h_embed(h)),
            self.patch_tokens(z),
        ], dim=1)

    def patch_tokens(self, z: Tensor) -> Tensor:
        tokens = self.patch_embed(self.patchify(z))
        return tokens + self.pos_embed[None] if self.cfg.pos_embed else tokens

    # -- the two paths ----------------------------------------------------------------------
    def run_trunk(self, seq: Tensor) -> Tensor:
        for blk in self.trunk:
            seq = blk(seq, self.rope_cos, self.rope_sin)
        return seq

    def run_head(self, seq: Tensor, head: nn.ModuleList, out: FinalLayer) -> Tensor:
        for blk in head:
            seq = blk(seq, self.rope_cos, self.rope_sin)
        return self.unpatchify(out(seq[:, self.cfg.prefix_tokens:]))

    def u_and_trunk(self, z, h, omega, t_min, t_max, y) -> tuple[Tensor, Tensor]:
        """The average velocity u and the trunk's tokens (from which the v head continues)."""
        trunk = self.run_trunk(self.sequence(z, h, omega, t_min, t_max, y))
        return self.run_head(trunk, self.u_head, self.u_out), trunk

    def v_from_trunk(self, trunk: Tensor) -> Tensor:
        if not self.cfg.aux_head:
            raise ValueError("this network has no auxiliary v head (model.aux_head is off)")
        return self.run_head(trunk, self.v_head, self.v_out)

    def u(self, z, h, omega, t_min, t_max, y) -> Tensor:
        """The average velocity u(z, h, omega, t_min, t_max, y) alone (sampling, export)."""
        return self.u_and_trunk(z, h, omega, t_min, t_max, y)[0]

    def v(self, z, h, omega, t_min, t_max, y) -> Tensor:
        """The instantaneous velocity from the auxiliary head (guidance target, Euler sampler)."""
        return self.v_from_trunk(self.run_trunk(self.sequence(z, h, omega, t_min, t_max, y)))

    def forward(self, z, h, omega, t_min, t_max, y) -> tuple[Tensor, Tensor]:
        u, trunk = self.u_and_trunk(z, h, omega, t_min, t_max, y)
        return u, self.v_from_trunk(trunk)
