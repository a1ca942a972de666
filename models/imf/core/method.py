"""The improved MeanFlow method (arXiv 2512.02012), apart from the network: time, guidance-scale
and interval sampling, the guidance target, the JVP and compound velocity, the loss, the original
MeanFlow objective as an ablation baseline, and the samplers. Conventions: z_t = (1 - t) x + t e,
data at t = 0, noise at t = 1, v = e - x; images are [B, C, H, W]; per-sample scalars are [B]."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import jvp
from torch.nn.attention import SDPBackend, sdpa_kernel

from imf.core.config import TrainConfig
from imf.core.network import ImfDiT


def bcast(s: Tensor) -> Tensor:
    """A per-sample scalar [B] shaped to broadcast over images [B, C, H, W]."""
    return s[:, None, None, None]


# -- sampling the training inputs -------------------------------------------------------------
# Every draw comes from one CPU generator (so a run resumes bit-exactly on any device) and then
# moves to the batch's device. The *_from_* functions turn raw draws into the inputs wherever
# the draws are; the training step draws all of its numbers at once (step_draws).
def flow_matching_count(batch: int, cfg: TrainConfig) -> int:
    """How many samples lead the batch with r = t (known on the host: no device sync)."""
    return int(batch * cfg.flow_matching_share)


def t_r_from_normals(normals: Tensor, cfg: TrainConfig) -> tuple[Tensor, Tensor, Tensor]:
    """sample_t_r from its standard normal draws [2, batch] (on any device)."""
    batch = normals.shape[1]
    draws = torch.sigmoid(normals * cfg.p_std + cfg.p_mean)
    t, r = draws.max(dim=0).values, draws.min(dim=0).values
    index = torch.arange(batch, device=normals.device)
    n_fm = flow_matching_count(batch, cfg)
    fm = index < n_fm
    endpoint = (index >= n_fm) & (index < n_fm + int(batch * cfg.endpoint_share))
    t = torch.where(endpoint, 1.0, t)
    r = torch.where(fm, t, torch.where(endpoint, 0.0, r))
    return t, r, fm


def sample_t_r(batch: int, cfg: TrainConfig, gen: torch.Generator,
               device: torch.device | str = "cpu") -> tuple[Tensor, Tensor, Tensor]:
    """(t, r, flow_matching_mask): two logit-normal draws, sigmoid(N(p_mean, p_std)), with
    t = max and r = min; the first flow_matching_share of the batch gets r = t, and the next
    endpoint_share of it gets (t, r) = (1, 0), the point the 1-NFE sampler queries, which two
    logit-normal draws almost never reach (P(t - r > 0.9) ~ 1e-5 at the official (-0.4, 1))."""
    t, r, fm = t_r_from_normals(torch.randn(2, batch, generator=gen), cfg)
    return t.to(device), r.to(device), fm.to(device)


def sample_omega(batch: int, cfg: TrainConfig, gen: torch.Generator,
                 device: torch.device | str = "cpu") -> Tensor:
    """Guidance scale omega on [1, 1 + s_max], log-uniform: omega = exp(U * log(1 + s_max))."""
    return omega_from_uniform(torch.rand(batch, generator=gen), cfg).to(device)


def omega_from_uniform(u: Tensor, cfg: TrainConfig) -> Tensor:
    return torch.exp(u * math.log1p(cfg.s_max))


def sample_interval(batch: int, fm: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Guidance interval: t_min ~ U(0, 0.5), t_max ~ U(0.5, 1); [0, 1] for the r = t samples."""
    u_min = torch.rand(batch, generator=gen).to(fm.device)
    return interval_from_uniforms(u_min, torch.rand(batch, generator=gen).to(fm.device), fm)


def interval_from_uniforms(u_min: Tensor, u_max: Tensor, fm: Tensor) -> tuple[Tensor, Tensor]:
    t_min, t_max = u_min * 0.5, 0.5 + u_max * 0.5
    return torch.where(fm, 0.0, t_min), torch.where(fm, 1.0, t_max)


@dataclass
class StepDraws:
    normals_t_r: Tensor  # [2, B]
    noise: Tensor  # like the images
    u_t_min: Tensor  # [B] uniforms for t_min, t_max, omega and class dropout
    u_t_max: Tensor
    u_omega: Tensor
    u_drop: Tensor


def step_draws(x: Tensor, gen: torch.Generator) -> StepDraws:
    """All of an iMF step's random numbers from the CPU generator, in the order (and with the
    values) of the per-draw functions above, moved to the batch's device in one transfer
    (pinned and asynchronous on CUDA): one host-to-device copy per step instead of six."""
    b = x.shape[0]
    parts = [torch.randn(2, b, generator=gen), torch.randn(x.shape, generator=gen)]
    parts += [torch.rand(b, generator=gen) for _ in range(4)]
    flat = torch.cat([p.flatten() for p in parts])
    if x.device.type == "cuda":
        flat = flat.pin_memory().to(x.device, non_blocking=True)
    else:
        flat = flat.to(x.device)
    normals, noise, *uniforms = flat.split([p.numel() for p in parts])
    return StepDraws(normals.view(2, b), noise.view(x.shape), *uniforms)


# -- the guidance target ----------------------------------------------------------------------
def effective_omega(t: Tensor, omega: Tensor, t_min: Tensor, t_max: Tensor) -> Tensor:
    """w: omega inside the guidance interval [t_min, t_max], 1 (no guidance) outside."""
    return torch.where((t >= t_min) & (t <= t_max), omega, torch.ones_like(omega))


def guided_velocity(v_t: Tensor, v_c: Tensor, v_u: Tensor, w: Tensor) -> Tensor:
    """v_g = v_t + (1 - 1/w)(v_c - v_u): the classifier-free-guided target velocity."""
    return v_t + bcast(1.0 - 1.0 / w) * (v_c - v_u)


@torch.no_grad()
def conditional_and_unconditional_v(net: ImfDiT, z: Tensor, y: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """(v_c, v_u): the v head at h = 0 on the interval [0, 1], conditional with scale w and
    unconditional (null class, omega = 1), in one pass over the doubled batch."""
    b = z.shape[0]
    null = torch.full_like(y, net.cfg.null_class)
    zeros, ones = z.new_zeros(2 * b), z.new_ones(2 * b)
    v = net.v(torch.cat([z, z]), zeros, torch.cat([w, torch.ones_like(w)]), zeros, ones,
              torch.cat([y, null]))
    return v[:b], v[b:]


def sample_class_dropout(batch: int, p: float, gen: torch.Generator,
                         device: torch.device | str = "cpu") -> Tensor:
    """Which samples lose their label (independently, with probability p)."""
    return (torch.rand(batch, generator=gen) < p).to(device)


def drop_classes(y: Tensor, v_g: Tensor, v_t: Tensor, drop: Tensor,
                 null_class: int) -> tuple[Tensor, Tensor]:
    """Class dropout: a dropped sample gets the null class and the unguided target v_t."""
    return torch.where(drop, null_class, y), torch.where(bcast(drop), v_t, v_g)


# -- the loss ---------------------------------------------------------------------------------
def adaptive_l2(pred: Tensor, target: Tensor, eps: float) -> Tensor:
    """Per-sample squared error divided by its own stopgrad(value + eps)."""
    sq = (pred - target).pow(2).flatten(1).sum(1)
    return sq / (sq.detach() + eps)


def compound_velocity(net: ImfDiT, z: Tensor, h: Tensor, omega: Tensor, t_min: Tensor,
                      t_max: Tensor, y: Tensor, tangent_z: Tensor) -> tuple[Tensor, Tensor]:
    """(V, v) with V = u + (t - r) * stopgrad(du/dt), du/dt the JVP of (z, t, r) -> u along
    (tangent_z, 1, 0). The network sees only h = t - r, so that tangent is (tangent_z, dh = 1).
    v is the auxiliary head's prediction on the same inputs."""
    def u_of(z_, h_):
        return net.u_and_trunk(z_, h_, omega, t_min, t_max, y)

    # fused attention kernels have no forward-mode AD (pytorch issues 128971, 117629): under the
    # JVP the math backend runs, which is the explicit softmax
    with sdpa_kernel(SDPBackend.MATH):
        u, du_dt, trunk = jvp(u_of, (z, h), (tangent_z, torch.ones_like(h)), has_aux=True)
    return u + bcast(h) * du_dt.detach(), net.v_from_trunk(trunk)


@dataclass
class StepLoss:
    loss: Tensor
    loss_u: Tensor  # mean squared error of the u path, unweighted, for the progress bar
    loss_v: Tensor  # (detached 0-dim tensors: reading them is the caller's device sync)


def imf_loss(net: ImfDiT, x: Tensor, y: Tensor, cfg: TrainConfig, gen: torch.Generator,
             velocity=compound_velocity) -> StepLoss:
    """The improved MeanFlow objective for one batch of images x [B, C, H, W] in [-1, 1].
    `velocity`: compound_velocity or its torch.compile'd form (compiled_imf_loss)."""
    b = x.shape[0]
    draws = step_draws(x, gen)
    t, r, fm = t_r_from_normals(draws.normals_t_r, cfg)
    e = draws.noise
    z = bcast(1 - t) * x + bcast(t) * e
    v_t = e - x
    t_min, t_max = interval_from_uniforms(draws.u_t_min, draws.u_t_max, fm)
    omega = omega_from_uniform(draws.u_omega, cfg)

    # For r = t samples the interval is [0, 1], so w = omega; one pass serves both halves.
    w = effective_omega(t, omega, t_min, t_max)
    v_c, v_u = conditional_and_unconditional_v(net, z, y, w)
    v_g = guided_velocity(v_t, v_c, v_u, w)
    drop = draws.u_drop < cfg.class_dropout
    y, v_g = drop_classes(y, v_g, v_t, drop, net.cfg.null_class)
    # The JVP follows the trajectory of the flow the sample is conditioned on: a dropped label
    # makes u unconditional, so its tangent is the unconditional velocity v_u, not v_c.
    tangent = torch.where(bcast(drop), v_u, v_c)

    # r = t samples: (t - r) du/dt vanishes, so V = u and no JVP is needed for them.
    n_fm = flow_matching_count(b, cfg)
    h = t - r
    sl_fm, sl_mf = slice(0, n_fm), slice(n_fm, b)
    V_parts, v_parts = [], []
    if n_fm:
        u_fm, trunk = net.u_and_trunk(z[sl_fm], h[sl_fm], omega[sl_fm], t_min[sl_fm],
                                      t_max[sl_fm], y[sl_fm])
        V_parts.append(u_fm)
        v_parts.append(net.v_from_trunk(trunk))
    if n_fm < b:
        V_mf, v_mf = velocity(net, z[sl_mf], h[sl_mf], omega[sl_mf], t_min[sl_mf],
                                       t_max[sl_mf], y[sl_mf], tangent[sl_mf])
        V_parts.append(V_mf)
        v_parts.append(v_mf)
    # the loss in fp32 whatever precision the network ran at (bf16 under autocast)
    V, v = torch.cat(V_parts).float(), torch.cat(v_parts).float()
    v_g = v_g.detach().float()
    loss = (adaptive_l2(V, v_g, cfg.norm_eps) + adaptive_l2(v, v_g, cfg.norm_eps)).mean()
    with torch.no_grad():
        return StepLoss(loss, (V - v_g).pow(2).mean(), (v - v_g).pow(2).mean())


def mf_loss(net: ImfDiT, x: Tensor, y: Tensor, cfg: TrainConfig, gen: torch.Generator) -> StepLoss:
    """The original MeanFlow objective, the ablation baseline: a fixed guidance scale baked in,
    ṽ = ω (e - x) + (1 - ω) u(z_t, h = 0, null), target ṽ - (t - r) du/dt with the JVP taken along
    the sample velocity (ṽ, 1, 0) rather than the network's own v; only the u head is trained.
    The network's omega/interval inputs are held at (mf_omega, 0, 1)."""
    b, dev = x.shape[0], x.device
    t, r, _ = sample_t_r(b, cfg, gen, dev)
    e = torch.randn(x.shape, generator=gen).to(dev)
    z = bcast(1 - t) * x + bcast(t) * e
    v_t = e - x
    omega = torch.full((b,), cfg.mf_omega, device=dev)
    zeros, ones = torch.zeros(b, device=dev), torch.ones(b, device=dev)
    with torch.no_grad():
        u_uncond = net.u(z, zeros, omega, zeros, ones, torch.full_like(y, net.cfg.null_class))
    v_tilde = cfg.mf_omega * v_t + (1 - cfg.mf_omega) * u_uncond
    drop = sample_class_dropout(b, cfg.class_dropout, gen, dev)
    y, v_tilde = drop_classes(y, v_tilde, v_t, drop, net.cfg.null_class)
    h = t - r

    def u_of(z_, h_):
        return net.u(z_, h_, omega, zeros, ones, y)

    with sdpa_kernel(SDPBackend.MATH):
        u, du_dt = jvp(u_of, (z, h), (v_tilde, torch.ones_like(h)))
    u, target = u.float(), (v_tilde - bcast(h) * du_dt).detach().float()
    loss = adaptive_l2(u, target, cfg.norm_eps).mean()
    with torch.no_grad():
        return StepLoss(loss, (u - target).pow(2).mean(), loss.new_zeros(()))


LOSSES = {"imf": imf_loss, "mf": mf_loss}


def compiled_imf_loss():
    """imf_loss with the JVP pass (the step's largest part) compiled by torch.compile: dynamo
    traces torch.func.jvp (checked on CPU with torch 2.13: same values, about 5x faster on the
    smoke network). The split between the r = t and JVP samples is fixed by the config, so the
    shapes, and with them the compiled graph, stay the same from step to step."""
    compiled = torch.compile(compound_velocity)

    def velocity(net, *tensors):  # fresh tensors: dynamo's jvp rejects the slices' view tangents
        return compiled(net, *(t.clone() for t in tensors))

    def loss(net: ImfDiT, x: Tensor, y: Tensor, cfg: TrainConfig, gen: torch.Generator) -> StepLoss:
        return imf_loss(net, x, y, cfg, gen, velocity=velocity)
    return loss


# -- samplers ---------------------------------------------------------------------------------
def _per_sample(value, z: Tensor) -> Tensor:
    return torch.as_tensor(value, dtype=z.dtype, device=z.device).expand(z.shape[0]).clone()


def sample_one_step(net: ImfDiT, z: Tensor, y: Tensor, omega, t_min, t_max) -> Tensor:
    """1-NFE: x = z - u(z, h = 1, omega, t_min, t_max, y)."""
    om, lo, hi = (_per_sample(v, z) for v in (omega, t_min, t_max))
    return z - net.u(z, z.new_ones(z.shape[0]), om, lo, hi, y)


def sample_mean_flow(net: ImfDiT, z: Tensor, y: Tensor, omega, t_min, t_max, steps: int) -> Tensor:
    """k-NFE on the u head: z_r = z_t - (t - r) u(z_t, h = t - r) over an even grid from 1 to 0
    (2-NFE goes through the intermediate time 0.5)."""
    om, lo, hi = (_per_sample(v, z) for v in (omega, t_min, t_max))
    grid = torch.linspace(1.0, 0.0, steps + 1)
    for t, r in zip(grid[:-1], grid[1:]):
        h = z.new_full((z.shape[0],), float(t - r))
        z = z - bcast(h) * net.u(z, h, om, lo, hi, y)
    return z


def sample_v_euler(net: ImfDiT, z: Tensor, y: Tensor, omega, t_min, t_max, steps: int) -> Tensor:
    """Multi-step Euler on the auxiliary v head (h = 0), guidance scale omega inside
    [t_min, t_max] and 1 outside, for comparison with the one-step u sampler."""
    om, lo, hi = (_per_sample(v, z) for v in (omega, t_min, t_max))
    b = z.shape[0]
    zeros, ones = z.new_zeros(b), z.new_ones(b)
    grid = torch.linspace(1.0, 0.0, steps + 1)
    for t, r in zip(grid[:-1], grid[1:]):
        w = effective_omega(z.new_full((b,), float(t)), om, lo, hi)
        z = z - float(t - r) * net.v(z, zeros, w, zeros, ones, y)
    return z


def sample_mf_baseline(net: ImfDiT, z: Tensor, y: Tensor, cfg: TrainConfig, steps: int = 1) -> Tensor:
    """The MF baseline's sampler: its guidance scale was fixed at training."""
    return sample_mean_flow(net, z, y, cfg.mf_omega, 0.0, 1.0, steps)
