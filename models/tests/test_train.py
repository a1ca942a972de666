import json

import pytest
import torch

from imf.training import checkpoint as ckpt
from imf.training.presets import PRESETS
from imf.training.train import apply_overrides, main, train


def losses(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_twenty_step_cpu_smoke_run_lowers_the_loss(tmp_path):
    cfg = apply_overrides(PRESETS["smoke"], ["checkpoint_every=4"])
    train(cfg, tmp_path, quiet=True)
    log = losses(tmp_path)
    assert [r["step"] for r in log] == [4, 8, 12, 16, 20]
    # the adaptive weight keeps the loss near 2; the squared errors it weighs must fall
    first, last = log[0], log[-1]
    assert last["loss_u"] + last["loss_v"] < 0.85 * (first["loss_u"] + first["loss_v"])
    assert ckpt.load(tmp_path / "last.safetensors").step == 20


def test_resume_reproduces_the_next_steps_exactly(tmp_path):
    straight = apply_overrides(PRESETS["smoke"], ["steps=6", "checkpoint_every=3"])
    train(straight, tmp_path / "a", quiet=True)
    train(apply_overrides(straight, ["steps=3"]), tmp_path / "b", quiet=True)
    train(straight, tmp_path / "b", quiet=True)  # resumes at step 3
    a, b = ckpt.load(tmp_path / "a" / "last.safetensors"), ckpt.load(tmp_path / "b" / "last.safetensors")
    assert a.step == b.step == 6
    for name in a.model:
        assert torch.equal(a.model[name], b.model[name]), name
        assert torch.equal(a.ema[name], b.ema[name]), name
    assert torch.equal(a.rng, b.rng) and a.data == b.data


def run_cli(args, capsys):
    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--set", "lr=-1"], "lr must be positive"),
    (["--set", "model.hidden_size=30"], "hidden_size"),
    (["--set", "nonsense=1"], "unknown config field"),
    (["--set", "steps=many"], "expected a int"),
    (["--preset", "nope"], "unknown preset"),
    (["--set", "dataset=cifar"], "dataset must be"),
    (["--set", "model.aux_head=false"], "model.aux_head must be on to train"),
])
def test_bad_config_stops_with_a_clear_message(tmp_path, capsys, args, message):
    code, err = run_cli(["--preset", "smoke", *args, "--out", str(tmp_path)] if "--preset" not in args
                        else [*args, "--out", str(tmp_path)], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_missing_data_files_stop_with_a_clear_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IMF_NODE_MODULES", str(tmp_path / "nowhere"))
    code, err = run_cli(["--preset", "smoke", "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "not found" in err and "npm ci" in err


def test_checkpoint_from_another_config_is_refused(tmp_path, capsys):
    train(apply_overrides(PRESETS["smoke"], ["steps=2"]), tmp_path, quiet=True)
    code, err = run_cli(["--preset", "smoke", "--set", "model.hidden_size=64", "--out",
                         str(tmp_path)], capsys)
    assert code == 2 and "another network config" in err and "hidden_size" in err


def test_optimizer_state_in_another_parameter_order_is_refused(tmp_path, capsys):
    """Adam's state is kept by parameter position: a checkpoint whose moments are in another order
    must stop with a clear message, not crash at the first step."""
    train(apply_overrides(PRESETS["smoke"], ["steps=2"]), tmp_path, quiet=True)
    state = ckpt.load(tmp_path / "last.safetensors")
    moments = state.optimizer["state"]
    shapes = {i: tuple(m["exp_avg"].shape) for i, m in moments.items()}
    first = next(iter(shapes))
    other = next(i for i, shape in shapes.items() if shape != shapes[first])
    moments[first], moments[other] = moments[other], moments[first]
    ckpt.save(tmp_path / "last.safetensors", state)
    code, err = run_cli(["--preset", "smoke", "--set", "steps=4", "--out", str(tmp_path)], capsys)
    assert code == 2 and "optimizer state does not fit" in err and "--init-from" in err
    assert "Traceback" not in err


def test_a_corrupt_checkpoint_is_refused(tmp_path, capsys):
    (tmp_path / "last.safetensors").write_bytes(b"not a checkpoint")
    code, err = run_cli(["--preset", "smoke", "--out", str(tmp_path)], capsys)
    assert code == 2 and "not a readable safetensors checkpoint" in err


def test_bias_corrected_ema_removes_the_initial_weights(tmp_path):
    from imf.evaluation.evaluate import debiased_ema

    # after one step, ema = d theta_0 + (1 - d) theta_1, so the corrected EMA is theta_1 exactly;
    # this also proves theta_0 is rebuilt from the seed exactly as training built it
    train(apply_overrides(PRESETS["smoke"], ["steps=1", "ema_decay=0.9"]), tmp_path, quiet=True)
    state = ckpt.load(tmp_path / "last.safetensors")
    corrected = debiased_ema(state)
    for name, value in state.model.items():
        assert torch.allclose(corrected[name], value, atol=1e-5), name


def test_data_parallel_run_with_torchrun_on_two_cpu_processes(tmp_path):
    """The several-GPU path (torchrun, gradients averaged across ranks) on gloo and the CPU."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    models = Path(__file__).resolve().parents[1]
    torchrun = Path(sys.executable).with_name("torchrun")
    result = subprocess.run(
        [str(torchrun), "--nproc_per_node=2", f"--master_port={port}", "-m", "imf.training.train",
         "--preset", "smoke", "--set", "steps=4", "--set", "checkpoint_every=2",
         "--out", str(tmp_path)],
        cwd=models, env={**os.environ, "PYTHONPATH": str(models)}, capture_output=True,
        text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    state = ckpt.load(tmp_path / "last.safetensors")
    assert state.step == 4
    assert all(torch.isfinite(v).all() for v in state.model.values())
    assert state.model["u_out.linear.weight"].abs().sum() > 0  # it trained


def test_ema_only_copy_keeps_exactly_the_ema_weights(tmp_path):
    train(apply_overrides(PRESETS["smoke"], ["steps=2"]), tmp_path, quiet=True)
    full = ckpt.load(tmp_path / "last.safetensors")
    ckpt.ema_only(tmp_path / "last.safetensors", tmp_path / "ema.safetensors")
    slim = ckpt.load(tmp_path / "ema.safetensors")
    assert slim.model == {} and slim.optimizer["state"] == {}
    assert slim.step == full.step and slim.config == full.config
    assert full.ema.keys() == slim.ema.keys()
    for name in full.ema:
        assert torch.equal(full.ema[name], slim.ema[name]), name
    assert (tmp_path / "ema.safetensors").stat().st_size < (tmp_path / "last.safetensors").stat().st_size / 3
