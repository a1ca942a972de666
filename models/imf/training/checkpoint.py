"""Checkpoints in safetensors: weights, EMA weights, optimizer state, RNG and data-stream position,
and the config that made them, so a run resumes exactly and a checkpoint says what it is."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from imf.core.config import TrainConfig


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used here; the message says why."""


@dataclass
class TrainState:
    step: int
    model: dict
    ema: dict
    optimizer: dict
    rng: torch.Tensor  # the loss generator's state
    data: dict  # BatchStream position
    config: TrainConfig


def save(path: Path, state: TrainState) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in state.model.items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in state.ema.items()})
    opt_meta = {"param_groups": state.optimizer["param_groups"], "state_keys": {}}
    for idx, slot in state.optimizer["state"].items():
        opt_meta["state_keys"][str(idx)] = sorted(slot)
        for name, value in slot.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng"] = state.rng.cpu()
    meta = {
        "format": "imf-checkpoint/1",
        "step": str(state.step),
        "config": state.config.to_json(),
        "optimizer": json.dumps(opt_meta),
        "data": json.dumps(state.data),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)  # a crash mid-save never leaves a torn checkpoint behind


def read_metadata(path: Path) -> dict:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint: {err}") from None


def load(path: Path) -> TrainState:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    meta = read_metadata(path)
    if meta.get("format") != "imf-checkpoint/1":
        raise CheckpointError(f"{path} is not an iMF training checkpoint (format "
                              f"{meta.get('format')!r})")
    tensors = load_file(str(path))
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    ema = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    opt_meta = json.loads(meta["optimizer"])
    opt_state = {}
    for idx, names in opt_meta["state_keys"].items():
        opt_state[int(idx)] = {n: tensors[f"optim.{idx}.{n}"] for n in names}
    return TrainState(
        step=int(meta["step"]), model=model, ema=ema,
        optimizer={"state": opt_state, "param_groups": opt_meta["param_groups"]},
        rng=tensors["rng"], data=json.loads(meta["data"]),
        config=TrainConfig.from_dict(json.loads(meta["config"])),
    )


def check_optimizer_matches(optimizer: torch.optim.Optimizer, path: Path) -> None:
    """Refuse optimizer state whose moments do not have their parameters' shapes. Adam's state is
    stored by parameter position, so a checkpoint written while the network listed its parameters
    in another order loads without complaint and fails at the first step; say so here instead."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            moment = optimizer.state.get(p, {}).get("exp_avg")
            if moment is not None and moment.shape != p.shape:
                raise CheckpointError(
                    f"{path}: its optimizer state does not fit this network's parameters (a "
                    f"moment of shape {tuple(moment.shape)} for a parameter of shape "
                    f"{tuple(p.shape)}); it was written by a version that ordered them "
                    "differently. Start a new run from its weights with --init-from.")


def check_compatible(saved: TrainConfig, wanted: TrainConfig, path: Path) -> None:
    """Refuse to resume from a checkpoint of another network or objective."""
    if saved.model != wanted.model:
        diff = {k: (getattr(saved.model, k), getattr(wanted.model, k))
                for k in saved.model.__dataclass_fields__
                if getattr(saved.model, k) != getattr(wanted.model, k)}
        raise CheckpointError(f"{path} was trained with another network config; differing "
                              f"fields (checkpoint, requested): {diff}")
    for key in ("objective", "dataset", "batch_size"):
        if getattr(saved, key) != getattr(wanted, key):
            raise CheckpointError(f"{path} was trained with {key}={getattr(saved, key)!r}, "
                                  f"this run asks for {getattr(wanted, key)!r}")


def ema_only(src: Path, dst: Path) -> None:
    """A copy of a checkpoint with only the EMA weights (what evaluation and export use): a
    quarter of the size, not resumable."""
    state = load(src)
    state.model = {}
    state.optimizer = {"state": {}, "param_groups": state.optimizer["param_groups"]}
    save(dst, state)


def strip_optimizer(src: Path, dst: Path) -> None:
    """A copy of a checkpoint without the optimizer moments: half the size, enough to
    evaluate or export it (not to resume training from it)."""
    state = load(src)
    state.optimizer = {"state": {}, "param_groups": state.optimizer["param_groups"]}
    save(dst, state)
