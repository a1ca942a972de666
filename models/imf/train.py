"""Train an iMF model from scratch.

    python -m imf.train --preset mnist-cpu --out runs/imf-mnist
    torchrun --nproc_per_node=8 -m imf.train --preset mnist-gpu --out runs/gpu

The config is printed at start and saved in every checkpoint; rerunning the same command resumes
from <out>/last.safetensors exactly (weights, EMA, optimizer, RNG and data position)."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from . import checkpoint as ckpt
from .config import ConfigError, ModelConfig, TrainConfig
from .data import BatchStream, DataError, load
from .method import LOSSES
from .network import ImfDiT
from .presets import PRESETS


def parse_value(text: str, like):
    if isinstance(like, bool):
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise ConfigError(f"expected true or false, got {text!r}")
    if isinstance(like, tuple):
        items = [v for v in text.split(",") if v]
        try:
            return tuple(int(v) if v.lstrip("-").isdigit() else float(v) for v in items)
        except ValueError:
            raise ConfigError(f"expected comma-separated numbers, got {text!r}") from None
    try:
        return type(like)(text)
    except ValueError:
        raise ConfigError(f"expected a {type(like).__name__}, got {text!r}") from None


def apply_overrides(cfg: TrainConfig, pairs: list[str]) -> TrainConfig:
    """`--set key=value` overrides; model fields are `model.<field>`."""
    model = cfg.model
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, text = pair.split("=", 1)
        if key.startswith("model."):
            name = key[6:]
            if name not in ModelConfig.__dataclass_fields__:
                raise ConfigError(f"unknown model field {name!r}")
            model = dataclasses.replace(model, **{name: parse_value(text, getattr(model, name))})
        else:
            if key not in TrainConfig.__dataclass_fields__ or key == "model":
                raise ConfigError(f"unknown config field {key!r}; fields: "
                                  f"{', '.join(f for f in TrainConfig.__dataclass_fields__ if f != 'model')}")
            cfg = dataclasses.replace(cfg, **{key: parse_value(text, getattr(cfg, key))})
    return dataclasses.replace(cfg, model=model).validate()


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then constant (EMA does the averaging)."""
    return cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup_steps))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), net.parameters()):
        e.lerp_(p, 1.0 - decay)


class Progress:
    """A one-line progress bar (loss, steps/s, ETA) that also reads well in a nohup log."""

    def __init__(self, total: int, start: int, enabled: bool):
        self.total, self.start, self.enabled = total, start, enabled
        self.t0 = time.time()
        self.tty = sys.stderr.isatty()

    def update(self, step: int, loss: float, loss_u: float, loss_v: float) -> None:
        if not self.enabled:
            return
        done = step - self.start
        rate = done / max(1e-9, time.time() - self.t0)
        eta = (self.total - step) / max(rate, 1e-9)
        bar = "#" * int(30 * step / self.total)
        line = (f"[{bar:<30}] {step}/{self.total} loss {loss:.4f} u-mse {loss_u:.4f} "
                f"v-mse {loss_v:.4f} {rate:.2f} steps/s eta {eta / 60:.1f} min")
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif step % 10 == 0 or step == self.total:
            print(line, file=sys.stderr, flush=True)


def train(cfg: TrainConfig, out: Path, resume: bool = True, quiet: bool = False) -> Path:
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank, world = 0, 1
    device = torch.device(cfg.device)
    if distributed:
        backend = "nccl" if cfg.device == "cuda" else "gloo"
        dist.init_process_group(backend)
        rank, world = dist.get_rank(), dist.get_world_size()
        if cfg.device == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA device is available")
    torch.set_num_threads(cfg.threads)
    torch.set_flush_denormal(True)  # zero-initialised gates otherwise produce slow denormals
    main = rank == 0
    if main and not quiet:
        print("config:\n" + cfg.to_json(), file=sys.stderr, flush=True)

    torch.manual_seed(cfg.seed)
    net = ImfDiT(cfg.model).to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, betas=cfg.adam_betas,
                            weight_decay=cfg.weight_decay)
    stream = BatchStream(load(cfg.dataset, "train"), cfg.batch_size, cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + rank)
    step = 0
    last = out / "last.safetensors"
    if resume and last.exists():
        state = ckpt.load(last)
        ckpt.check_compatible(state.config, cfg, last)
        net.load_state_dict(state.model)
        ema.load_state_dict(state.ema)
        opt.load_state_dict(state.optimizer)
        gen.set_state(state.rng)
        stream.restore(state.data)
        step = state.step
        if main and not quiet:
            print(f"resumed from {last} at step {step}", file=sys.stderr, flush=True)
    if distributed:  # same seed on every rank; start from rank 0's weights all the same
        for p in net.parameters():
            dist.broadcast(p.data, 0)
    loss_fn = LOSSES[cfg.objective]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cfg.device == "cuda" and cfg.bf16)
    progress = Progress(cfg.steps, step, main and not quiet)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(cfg.to_json())
    while step < cfg.steps:
        x, y = stream.next()
        if distributed:  # each rank takes its own slice of the global batch
            x, y = x[rank::world], y[rank::world]
        x, y = x.to(device), y.to(device)
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, cfg)
        with autocast:
            result = loss_fn(net, x, y, cfg, gen)
        opt.zero_grad(set_to_none=True)
        result.loss.backward()
        if distributed:  # data parallel: average gradients over ranks (what DDP does)
            for p in net.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= world
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        update_ema(ema, net, cfg.ema_decay)
        step += 1
        loss = result.loss.item()
        if not math.isfinite(loss):
            raise FloatingPointError(f"loss became {loss} at step {step}; lower lr "
                                     f"(now {cfg.lr}) or raise warmup_steps")
        progress.update(step, loss, result.loss_u, result.loss_v)
        if main and (step % cfg.checkpoint_every == 0 or step == cfg.steps
                     or step in cfg.keep_snapshots):
            state = ckpt.TrainState(step, net.state_dict(), ema.state_dict(), opt.state_dict(),
                                    gen.get_state(), stream.state(), cfg)
            ckpt.save(last, state)
            if step in cfg.keep_snapshots:
                ckpt.save(out / f"step-{step:06d}.safetensors", state)
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps({"step": step, "loss": loss, "loss_u": result.loss_u,
                                      "loss_v": result.loss_v, "time": time.time()}) + "\n")
    if main and not quiet and progress.tty:
        print(file=sys.stderr)
    if distributed:
        dist.destroy_process_group()
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="mnist-cpu", help=f"one of {', '.join(PRESETS)}")
    parser.add_argument("--config", type=Path, help="a JSON config file (instead of a preset)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set steps=100 --set model.hidden_size=64")
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints")
    parser.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    args = parser.parse_args(argv)
    try:
        if args.config:
            if not args.config.is_file():
                raise ConfigError(f"config file {args.config} not found")
            try:
                cfg = TrainConfig.from_dict(json.loads(args.config.read_text()))
            except (json.JSONDecodeError, TypeError) as err:
                raise ConfigError(f"{args.config}: not a valid config ({err})") from None
        elif args.preset in PRESETS:
            cfg = PRESETS[args.preset]
        else:
            raise ConfigError(f"unknown preset {args.preset!r}; presets: {', '.join(PRESETS)}")
        cfg = apply_overrides(cfg, args.set)
        train(cfg, args.out, resume=not args.no_resume)
    except (ConfigError, DataError, ckpt.CheckpointError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; rerun the same command to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
