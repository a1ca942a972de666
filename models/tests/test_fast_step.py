"""The optimised training step (one transfer of the step's draws, fused attention, no host
syncs, fused EMA, device-resident data) computes the objective of the reference step: the same
loss and gradients on a fixed batch, and the same batches and EMA."""

import copy

import pytest
import torch

from conftest import TINY, randomized
from imf.core import method
from imf.core.config import TrainConfig
from imf.data.datasets import BatchStream, Split
from imf.core.method import (StepLoss, adaptive_l2, bcast, compound_velocity,
                        conditional_and_unconditional_v, drop_classes, effective_omega,
                        guided_velocity, sample_class_dropout, sample_interval, sample_omega,
                        sample_t_r)
from imf.core.network import ImfDiT
from imf.training.train import update_ema


def reference_imf_loss(net, x, y, cfg, gen) -> StepLoss:
    """The iMF step as it was before optimisation: six draws moved one by one, the flow-matching
    count read from the device, explicit attention, fp32."""
    b, dev = x.shape[0], x.device
    t, r, fm = sample_t_r(b, cfg, gen, dev)
    e = torch.randn(x.shape, generator=gen).to(dev)
    z = bcast(1 - t) * x + bcast(t) * e
    v_t = e - x
    t_min, t_max = sample_interval(b, fm, gen)
    omega = sample_omega(b, cfg, gen, dev)
    w = effective_omega(t, omega, t_min, t_max)
    v_c, v_u = conditional_and_unconditional_v(net, z, y, w)
    v_g = guided_velocity(v_t, v_c, v_u, w)
    drop = sample_class_dropout(b, cfg.class_dropout, gen, dev)
    y, v_g = drop_classes(y, v_g, v_t, drop, net.cfg.null_class)
    tangent = torch.where(bcast(drop), v_u, v_c)
    n_fm = int(fm.sum())
    h = t - r
    sl_fm, sl_mf = slice(0, n_fm), slice(n_fm, b)
    u_fm, trunk = net.u_and_trunk(z[sl_fm], h[sl_fm], omega[sl_fm], t_min[sl_fm], t_max[sl_fm],
                                  y[sl_fm])
    V_mf, v_mf = compound_velocity(net, z[sl_mf], h[sl_mf], omega[sl_mf], t_min[sl_mf],
                                   t_max[sl_mf], y[sl_mf], tangent[sl_mf])
    V, v = torch.cat([u_fm, V_mf]), torch.cat([net.v_from_trunk(trunk), v_mf])
    v_g = v_g.detach()
    loss = (adaptive_l2(V, v_g, cfg.norm_eps) + adaptive_l2(v, v_g, cfg.norm_eps)).mean()
    return StepLoss(loss, (V - v_g).pow(2).mean().item(), (v - v_g).pow(2).mean().item())


CFG = TrainConfig(batch_size=12, class_dropout=0.3, flow_matching_share=0.25, endpoint_share=0.25,
                  model=TINY)


def fixed_batch():
    g = torch.Generator().manual_seed(3)
    return torch.rand(12, 1, 28, 28, generator=g) * 2 - 1, torch.arange(12) % 10


def step(loss_fn, net, autocast=False):
    x, y = fixed_batch()
    net.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        result = loss_fn(net, x, y, CFG, torch.Generator().manual_seed(11))
    result.loss.backward()
    return result, {n: p.grad.clone() for n, p in net.named_parameters()}


def test_fused_attention_computes_the_explicit_attention():
    net = randomized(ImfDiT(TINY))
    z, h = torch.randn(4, 1, 28, 28), torch.rand(4)
    args = (z, h, 1 + torch.rand(4), torch.zeros(4), torch.ones(4), torch.tensor([0, 3, 7, 10]))
    u, v = net(*args)
    fused = copy.deepcopy(net).use_fused_attention()
    assert fused.trunk[0].attn.fused and not net.trunk[0].attn.fused
    u2, v2 = fused(*args)
    assert torch.allclose(u, u2, atol=1e-5) and torch.allclose(v, v2, atol=1e-5)


def test_optimised_step_has_the_reference_loss_and_gradients():
    net = randomized(ImfDiT(TINY), std=0.1)
    ref, ref_grads = step(reference_imf_loss, net)
    got, grads = step(method.imf_loss, copy.deepcopy(net).use_fused_attention())
    assert isinstance(got.loss_u, torch.Tensor)  # read by the caller when it logs: no sync here
    assert torch.allclose(got.loss, ref.loss, rtol=1e-5, atol=1e-6)
    assert abs(float(got.loss_u) - ref.loss_u) <= 1e-5 * ref.loss_u
    assert abs(float(got.loss_v) - ref.loss_v) <= 1e-5 * ref.loss_v
    for name, g in ref_grads.items():
        assert torch.allclose(grads[name], g, rtol=1e-4, atol=1e-6), name


def test_bf16_step_stays_within_a_few_percent_of_the_fp32_objective():
    """Under bf16 autocast (what CUDA training runs) the squared errors the loss weighs move by
    under 2% and the gradient direction keeps a cosine above 0.99 on this batch."""
    net = randomized(ImfDiT(TINY), std=0.1)
    ref, ref_grads = step(reference_imf_loss, net)
    got, grads = step(method.imf_loss, copy.deepcopy(net).use_fused_attention(), autocast=True)
    assert got.loss.dtype == torch.float32
    assert abs(float(got.loss_u) - ref.loss_u) < 0.02 * ref.loss_u
    assert abs(float(got.loss_v) - ref.loss_v) < 0.02 * ref.loss_v
    flat = torch.cat([g.flatten() for g in grads.values()])
    ref_flat = torch.cat([g.flatten() for g in ref_grads.values()])
    assert torch.nn.functional.cosine_similarity(flat, ref_flat, dim=0) > 0.99


def test_step_draws_are_the_per_draw_functions_numbers():
    x = torch.zeros(12, 1, 28, 28)
    d = method.step_draws(x, torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    t, r, fm = sample_t_r(12, CFG, g)
    assert torch.equal(method.t_r_from_normals(d.normals_t_r, CFG)[0], t)
    assert torch.equal(d.noise, torch.randn(x.shape, generator=g))
    lo, hi = sample_interval(12, fm, g)
    assert torch.equal(method.interval_from_uniforms(d.u_t_min, d.u_t_max, fm)[0], lo)
    assert torch.equal(method.omega_from_uniform(d.u_omega, CFG), sample_omega(12, CFG, g))
    assert torch.equal(d.u_drop < CFG.class_dropout, sample_class_dropout(12, CFG.class_dropout, g))


def test_fused_ema_update_is_the_per_tensor_lerp():
    net, ema = randomized(ImfDiT(TINY), seed=1), randomized(ImfDiT(TINY), seed=2)
    expected = [e.detach().clone().lerp_(p.detach(), 1 - 0.99)
                for e, p in zip(ema.parameters(), net.parameters())]
    update_ema(ema, net, 0.99)
    for e, want in zip(ema.parameters(), expected):
        assert torch.equal(e, want)


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_batch_stream_keeps_the_data_on_its_device_in_the_same_order(device):
    import numpy as np
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2)
    split = Split(images, np.arange(10, dtype=np.int64))
    host, dev = BatchStream(split, 3, seed=2), BatchStream(split, 3, seed=2, device=device)
    for _ in range(5):  # crosses an epoch boundary
        (hx, hy), (dx, dy) = host.next(), dev.next()
        assert dx.device.type == device
        if device == "cpu":
            assert torch.equal(hx, dx) and torch.equal(hy, dy)
    assert host.state() == dev.state()


def test_compiled_step_has_the_reference_loss_and_gradients():
    """torch.compile through torch.func.jvp (about a minute of compiling on two cores)."""
    net = randomized(ImfDiT(TINY), std=0.1)
    ref, ref_grads = step(reference_imf_loss, net)
    got, grads = step(method.compiled_imf_loss(), copy.deepcopy(net).use_fused_attention())
    assert torch.allclose(got.loss, ref.loss, rtol=1e-5, atol=1e-6)
    for name, g in ref_grads.items():
        assert torch.allclose(grads[name], g, rtol=1e-3, atol=1e-5), name


def test_a_non_finite_loss_between_log_points_still_stops_the_run(tmp_path, monkeypatch):
    """The loop reads the loss every LOG_EVERY steps only; a NaN at step 3 must not slip by."""
    from imf.training import train as train_module
    from imf.training.presets import PRESETS

    calls = []

    def nan_at_step_3(net, x, y, cfg, gen):
        result = method.imf_loss(net, x, y, cfg, gen)
        calls.append(1)
        if len(calls) == 3:
            result.loss = result.loss * float("nan")
        return result

    monkeypatch.setitem(train_module.LOSSES, "imf", nan_at_step_3)
    cfg = train_module.apply_overrides(PRESETS["smoke"], ["checkpoint_every=100"])
    with pytest.raises(FloatingPointError, match=f"before step {train_module.LOG_EVERY}"):
        train_module.train(cfg, tmp_path, quiet=True)
