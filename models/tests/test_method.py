import math
from types import SimpleNamespace

import torch
from torch.func import jvp

from conftest import TINY, randomized
from imf.core import method
from imf.core.config import TrainConfig
from imf.core.network import ImfDiT


def test_t_r_are_logit_normal_ordered_with_half_flow_matching():
    cfg = TrainConfig()
    t, r, fm = method.sample_t_r(10000, cfg, torch.Generator().manual_seed(0))
    assert fm.sum() == 5000 and torch.equal(t[fm], r[fm])
    assert bool((t >= r).all()) and bool((t < 1).all()) and bool((r > 0).all())
    # the logit of a single draw is N(-0.4, 1); r < t pairs are the min/max of two draws
    logit = torch.log(t[fm] / (1 - t[fm]))
    both = torch.cat([torch.logit(t[~fm]), torch.logit(r[~fm])])
    assert abs(both.mean().item() + 0.4) < 0.05 and abs(both.std().item() - 1.0) < 0.05
    assert logit.mean().item() > -0.4  # the max of two draws sits above the mean


def test_omega_is_log_uniform_on_1_to_8():
    w = method.sample_omega(20000, TrainConfig(), torch.Generator().manual_seed(0))
    assert w.min() >= 1 and w.max() <= 8
    assert abs(torch.log(w).mean().item() - math.log(8) / 2) < 0.02


def test_interval_ranges_and_full_interval_for_flow_matching_half():
    fm = torch.arange(1000) < 500
    lo, hi = method.sample_interval(1000, fm, torch.Generator().manual_seed(0))
    assert bool((lo[fm] == 0).all()) and bool((hi[fm] == 1).all())
    assert lo[~fm].min() >= 0 and lo[~fm].max() <= 0.5
    assert hi[~fm].min() >= 0.5 and hi[~fm].max() <= 1


def test_guidance_applies_only_inside_the_interval():
    t = torch.tensor([0.1, 0.5, 0.9])
    w = method.effective_omega(t, torch.full((3,), 4.0), torch.full((3,), 0.2), torch.full((3,), 0.8))
    assert w.tolist() == [1.0, 4.0, 1.0]


def test_guided_velocity_matches_hand_computation():
    v_t, v_c, v_u = (torch.full((2, 1, 1, 1), v) for v in (1.0, 3.0, 0.5))
    v_g = method.guided_velocity(v_t, v_c, v_u, torch.tensor([1.0, 4.0]))
    # w = 1: no guidance; w = 4: 1 + (1 - 1/4) * (3 - 0.5) = 2.875
    assert v_g.flatten().tolist() == [1.0, 2.875]


def test_adaptive_l2_is_loss_over_stopgrad_loss_plus_eps():
    pred = torch.tensor([[1.0, 2.0]], requires_grad=True)
    loss = method.adaptive_l2(pred, torch.zeros(1, 2), eps=0.01)
    assert math.isclose(loss.item(), 5 / 5.01, rel_tol=1e-6)
    loss.backward()  # the denominator carries no gradient: d/dp (p^2 / c) = 2p / c
    assert torch.allclose(pred.grad, torch.tensor([[2 / 5.01, 4 / 5.01]]))


def test_jvp_of_u_matches_finite_differences():
    net = randomized(ImfDiT(TINY)).double()
    b = 3
    z = torch.randn(b, 1, 28, 28, dtype=torch.double)
    h = torch.tensor([0.2, 0.5, 0.7], dtype=torch.double)
    args = (torch.full((b,), 2.0, dtype=torch.double), torch.zeros(b, dtype=torch.double),
            torch.ones(b, dtype=torch.double), torch.tensor([1, 2, TINY.null_class]))
    tangent = torch.randn_like(z)
    f = lambda z_, h_: net.u(z_, h_, *args)  # noqa: E731
    _, du = jvp(f, (z, h), (tangent, torch.ones(b, dtype=torch.double)))
    eps = 1e-6  # central differences in float64: error ~ eps^2, far below a wrong tangent's
    fd = (f(z + eps * tangent, h + eps) - f(z - eps * tangent, h - eps)) / (2 * eps)
    assert (du - fd).abs().max().item() < 1e-5 * max(1.0, du.abs().max().item())


class LinearNet:
    """A network with hand-computable outputs: u = a z + b h, v = c z + d [y is null] +
    k (1 - 1/omega). `a` is a tensor so tests can follow its gradient."""
    b, c, d, k = 2.0, 0.25, 1.0, 0.75

    def __init__(self, a: float = 0.5):
        self.a = torch.tensor(a, requires_grad=True)
        self.cfg = SimpleNamespace(null_class=10)

    def u(self, z, h, omega, t_min, t_max, y):
        return self.a * z + self.b * method.bcast(h)

    def u_and_trunk(self, z, h, omega, t_min, t_max, y):
        return self.u(z, h, omega, t_min, t_max, y), z

    def v_from_trunk(self, trunk):
        return self.c * trunk

    def v(self, z, h, omega, t_min, t_max, y):
        null = method.bcast((y == self.cfg.null_class).to(z.dtype))
        return self.c * z + self.d * null + self.k * method.bcast(1 - 1 / omega)


def replay_imf(net: LinearNet, x, y, cfg, seed: int, a_in_jvp):
    """The iMF loss by hand, drawing the same numbers as imf_loss; `a_in_jvp` is the slope used
    inside du/dt (net.a.detach() for the stop-gradient the method prescribes)."""
    g = torch.Generator().manual_seed(seed)
    b = x.shape[0]
    t, r, fm = method.sample_t_r(b, cfg, g)
    e = torch.randn(x.shape, generator=g)
    lo, hi = method.sample_interval(b, fm, g)
    omega = method.sample_omega(b, cfg, g)
    drop = method.sample_class_dropout(b, cfg.class_dropout, g)
    T = method.bcast
    z = T(1 - t) * x + T(t) * e
    w = method.effective_omega(t, omega, lo, hi)
    v_c = net.c * z + net.k * T(1 - 1 / w)  # conditional, at the effective scale w
    v_u = net.c * z + net.d  # unconditional: the null class at omega = 1
    v_g = torch.where(T(drop), e - x, (e - x) + T(1 - 1 / w) * (v_c - v_u))
    tangent = torch.where(T(drop), v_u, v_c)  # a dropped label follows the unconditional flow
    h = T(t - r)
    V = net.a * z + net.b * h + h * (a_in_jvp * tangent + net.b)  # u + h du/dt
    v = net.c * z
    sq_u = (V - v_g).pow(2).flatten(1).sum(1)
    sq_v = (v - v_g).pow(2).flatten(1).sum(1)
    loss = (sq_u / (sq_u.detach() + cfg.norm_eps) + sq_v / (sq_v.detach() + cfg.norm_eps)).mean()
    return loss, V, v_g, drop, fm


IMF_CASE = dict(cfg=TrainConfig(batch_size=8, class_dropout=0.4), seed=5)


def test_imf_loss_matches_hand_computation_with_class_dropout():
    cfg, seed = IMF_CASE["cfg"], IMF_CASE["seed"]
    x = torch.randn(8, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % 10
    net = LinearNet()
    got = method.imf_loss(net, x, y, cfg, torch.Generator().manual_seed(seed))
    expected, V, v_g, drop, fm = replay_imf(net, x, y, cfg, seed, net.a.detach())
    # the case must exercise a dropped label on an r < t sample (where its tangent matters)
    # and a kept one
    assert bool((drop & ~fm).any()) and bool((~drop & ~fm).any())
    assert torch.allclose(got.loss, expected, atol=1e-6)
    assert math.isclose(got.loss_u, (V - v_g).pow(2).mean().item(), rel_tol=1e-5)


def test_imf_loss_stops_the_gradient_through_du_dt():
    cfg, seed = IMF_CASE["cfg"], IMF_CASE["seed"]
    x = torch.randn(8, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % 10
    net = LinearNet()
    method.imf_loss(net, x, y, cfg, torch.Generator().manual_seed(seed)).loss.backward()
    got = net.a.grad.clone()
    hand = LinearNet()
    replay_imf(hand, x, y, cfg, seed, hand.a.detach())[0].backward()
    leaky = LinearNet()
    replay_imf(leaky, x, y, cfg, seed, leaky.a)[0].backward()  # the gradient the method forbids
    assert torch.allclose(got, hand.a.grad, rtol=1e-5)
    assert not torch.allclose(got, leaky.a.grad, rtol=1e-3)


def test_endpoint_share_puts_that_share_of_the_batch_at_t_1_r_0():
    cfg = TrainConfig(flow_matching_share=0.5, endpoint_share=0.25)
    t, r, fm = method.sample_t_r(16, cfg, torch.Generator().manual_seed(0))
    assert fm.tolist() == [True] * 8 + [False] * 8
    assert t[8:12].tolist() == [1.0] * 4 and r[8:12].tolist() == [0.0] * 4
    assert bool((t[12:] < 1).all()) and bool((r[12:] > 0).all())
    assert torch.equal(t[:8], r[:8])


def test_class_dropout_sets_null_class_and_unguided_target():
    y = torch.arange(1000) % 10
    v_g, v_t = torch.ones(1000, 1, 1, 1), torch.zeros(1000, 1, 1, 1)
    drop = method.sample_class_dropout(1000, 0.1, torch.Generator().manual_seed(0))
    assert 60 < drop.sum() < 140
    y2, target = method.drop_classes(y, v_g, v_t, drop, 10)
    assert torch.equal(y2 == 10, drop)
    assert bool((target[drop] == 0).all()) and bool((target[~drop] == 1).all())


def replay_mf(net: LinearNet, x, y, cfg, seed: int):
    """The MF baseline's loss by hand: tangent v~ = omega v_t + (1 - omega) u(z, 0, null), target
    v~ - h (a v~ + b) with no gradient."""
    g = torch.Generator().manual_seed(seed)
    b = x.shape[0]
    t, r, _ = method.sample_t_r(b, cfg, g)
    e = torch.randn(x.shape, generator=g)
    drop = method.sample_class_dropout(b, cfg.class_dropout, g)
    T = method.bcast
    z = T(1 - t) * x + T(t) * e
    v_t = e - x
    a = net.a.detach()
    v_tilde = torch.where(T(drop), v_t, cfg.mf_omega * v_t + (1 - cfg.mf_omega) * a * z)
    h = T(t - r)
    target = v_tilde - h * (a * v_tilde + net.b)
    u = net.a * z + net.b * h
    sq = (u - target).pow(2).flatten(1).sum(1)
    return (sq / (sq.detach() + cfg.norm_eps)).mean()


def test_mf_baseline_loss_matches_hand_computation():
    cfg = TrainConfig(batch_size=8, class_dropout=0.3, mf_omega=2.5)
    x = torch.randn(8, 1, 2, 2, generator=torch.Generator().manual_seed(2))
    y = torch.arange(8) % 10
    net, hand = LinearNet(), LinearNet()
    got = method.mf_loss(net, x, y, cfg, torch.Generator().manual_seed(4))
    expected = replay_mf(hand, x, y, cfg, 4)
    assert torch.allclose(got.loss, expected, atol=1e-6)
    # the target carries no gradient: only u's own dependence on a does
    got.loss.backward()
    expected.backward()
    assert torch.allclose(net.a.grad, hand.a.grad, rtol=1e-5)


def test_one_step_sampler_is_z_minus_u_at_h_1():
    net = randomized(ImfDiT(TINY))
    z = torch.randn(2, 1, 28, 28)
    y = torch.tensor([3, 4])
    expected = z - net.u(z, torch.ones(2), torch.full((2,), 2.5), torch.full((2,), 0.1),
                         torch.full((2,), 0.9), y)
    assert torch.allclose(method.sample_one_step(net, z, y, 2.5, 0.1, 0.9), expected)
    # two NFE through t = 0.5 with h = 0.5 per step
    two = method.sample_mean_flow(net, z, y, 2.5, 0.1, 0.9, 2)
    half = torch.full((2,), 0.5)
    args = (torch.full((2,), 2.5), torch.full((2,), 0.1), torch.full((2,), 0.9), y)
    mid = z - 0.5 * net.u(z, half, *args)
    assert torch.allclose(two, mid - 0.5 * net.u(mid, half, *args), atol=1e-6)


def test_mf_baseline_loss_runs_and_trains_only_the_u_head():
    net = ImfDiT(TINY)
    with torch.no_grad():
        net.u_out.linear.weight.normal_(0, 0.1)
    out = method.mf_loss(net, torch.randn(4, 1, 28, 28).clamp(-1, 1), torch.tensor([0, 1, 2, 3]),
                         TrainConfig(batch_size=4), torch.Generator().manual_seed(0))
    out.loss.backward()
    assert net.u_out.linear.weight.grad.abs().sum() > 0
    assert net.v_out.linear.weight.grad is None
