"""The learning-rate schedule (warm-up, constant, cooldown) and starting a run from another
run's EMA weights: the two levers of the haze A/B."""

import pytest
import torch

from imf.training import checkpoint as ckpt
from imf.evaluation.evaluate import debiased_ema
from imf.training.presets import PRESETS
from imf.training.train import apply_overrides, learning_rate, main, train


def test_without_a_cooldown_the_rate_stays_constant_after_warm_up():
    cfg = apply_overrides(PRESETS["smoke"], ["steps=100", "warmup_steps=10", "lr=0.001"])
    assert learning_rate(4, cfg) == pytest.approx(0.0005)
    assert learning_rate(50, cfg) == learning_rate(99, cfg) == pytest.approx(0.001)


def test_the_cooldown_takes_the_rate_linearly_to_zero_at_the_last_step():
    cfg = apply_overrides(PRESETS["smoke"], ["steps=100", "warmup_steps=10", "lr=0.001",
                                             "cooldown_steps=40"])
    assert learning_rate(60, cfg) == pytest.approx(0.001)
    assert learning_rate(80, cfg) == pytest.approx(0.0005)
    assert learning_rate(99, cfg) == pytest.approx(0.001 / 40)
    assert learning_rate(100, cfg) == 0.0


def test_a_run_from_another_runs_ema_starts_on_those_weights(tmp_path):
    source = apply_overrides(PRESETS["smoke"], ["steps=6", "checkpoint_every=6"])
    train(source, tmp_path / "a", quiet=True)
    start = debiased_ema(ckpt.load(tmp_path / "a" / "last.safetensors"))
    # zero steps to go: the new run's first checkpoint holds exactly the weights it started on
    cont = apply_overrides(source, ["steps=1", "lr=1e-12", "warmup_steps=1"])
    train(cont, tmp_path / "b", quiet=True, init_from=tmp_path / "a" / "last.safetensors")
    b = ckpt.load(tmp_path / "b" / "last.safetensors")
    for name, value in start.items():
        assert torch.allclose(b.model[name], value, atol=1e-6), name


def test_a_missing_init_checkpoint_stops_with_a_clear_message(tmp_path, capsys):
    code = main(["--preset", "smoke", "--out", str(tmp_path / "r"), "--init-from",
                 str(tmp_path / "nope.safetensors")])
    assert code == 2
    assert "--init-from" in capsys.readouterr().err


def test_a_run_from_trained_weights_keeps_its_ema_as_it_is(tmp_path):
    source = apply_overrides(PRESETS["smoke"], ["steps=6", "checkpoint_every=6"])
    train(source, tmp_path / "a", quiet=True)
    assert main(["--preset", "smoke", "--set", "steps=2", "--out", str(tmp_path / "b"),
                 "--init-from", str(tmp_path / "a" / "last.safetensors")]) == 0
    b = ckpt.load(tmp_path / "b" / "last.safetensors")
    assert b.config.init_from.endswith("last.safetensors")
    ema = debiased_ema(b)
    for name, value in b.ema.items():  # no share of a random init is taken out
        assert torch.equal(ema[name], value), name


def test_the_raw_weights_of_a_checkpoint_are_its_training_weights_not_its_ema(tmp_path):
    from imf.evaluation.evaluate import load_raw

    train(apply_overrides(PRESETS["smoke"], ["steps=4", "checkpoint_every=4"]), tmp_path, quiet=True)
    state = ckpt.load(tmp_path / "last.safetensors")
    net, _, step = load_raw(tmp_path / "last.safetensors")
    assert step == 4
    differs = False
    for name, value in net.state_dict().items():
        assert torch.equal(value, state.model[name]), name
        differs |= not torch.equal(value, state.ema[name])
    assert differs  # four steps at EMA 0.999 leave the EMA far from the weights
