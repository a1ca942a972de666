"""gpu/train_timed.py: a timed run of the smoke preset on the CPU profiles its step, trains,
reports steps/s and leaves EMA weights that load as a checkpoint; large EMA files are split
into parts under 16 MB that join back into the same checkpoint."""

import importlib.util
from pathlib import Path

import torch

from imf.training import checkpoint as ckpt
from imf.training.presets import PRESETS
from imf.training.train import apply_overrides, train

_spec = importlib.util.spec_from_file_location(
    "train_timed", Path(__file__).resolve().parents[1] / "gpu" / "train_timed.py")
train_timed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_timed)


def test_timed_smoke_run_profiles_trains_and_writes_ema(tmp_path, capsys):
    code = train_timed.main(["--preset", "smoke", "--set", "device=cpu", "--set", "threads=1",
                             "--no-compile", "--minutes", "0.05", "--profile-steps", "2", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "steps/s steady state" in out and "top kernels by self CPU time" in out
    assert "aten::mm" in out  # the profiler's table, not a placeholder
    assert "trained steps 0 -> " in out
    ema = tmp_path / "ema.safetensors"
    state = ckpt.load(ema)
    assert state.model == {} and state.step > 0
    assert ema.stat().st_size < 16 * 10**6


def test_cuda_preset_on_a_machine_without_cuda_says_how_to_run_on_cpu(tmp_path, capsys):
    if torch.cuda.is_available():
        return
    code = train_timed.main(["--preset", "smoke", "--set", "device=cuda", "--minutes", "1",
                             "--out", str(tmp_path)])
    assert code == 2 and "--set device=cpu" in capsys.readouterr().err


def test_large_ema_is_split_into_parts_that_join_to_the_file(tmp_path, monkeypatch):
    train(apply_overrides(PRESETS["smoke"], ["steps=2", "checkpoint_every=2"]), tmp_path, quiet=True)
    ckpt.ema_only(tmp_path / "last.safetensors", tmp_path / "whole.safetensors")
    whole = (tmp_path / "whole.safetensors").read_bytes()
    monkeypatch.setattr(train_timed, "PART_BYTES", len(whole) // 3 + 1)
    parts = train_timed.write_ema(tmp_path / "last.safetensors", tmp_path)
    assert len(parts) == 3 and not (tmp_path / "ema.safetensors").exists()
    joined = tmp_path / "joined.safetensors"
    joined.write_bytes(b"".join(p.read_bytes() for p in sorted(parts)))
    got, want = ckpt.load(joined), ckpt.load(tmp_path / "whole.safetensors")
    assert got.step == want.step and got.ema.keys() == want.ema.keys()
    for name in want.ema:
        assert torch.equal(got.ema[name], want.ema[name]), name
