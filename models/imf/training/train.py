"""Train an iMF model from scratch, on MNIST, Fashion-MNIST or a folder of your own images.

    python -m imf.training.train --preset mnist-cpu --id imf-mnist            # runs/imf-mnist/
    python -m imf.training.train --data DIR --resolution 32 --channels 3 --id my-model
    torchrun --nproc_per_node=8 -m imf.training.train --preset mnist-gpu --id imf-mnist-gpu

DIR holds one sub-folder per class (the folder names are the class names) with PNG or JPEG
images. The config is printed at start and saved in every checkpoint; rerunning the same command
resumes from runs/<id>/last.safetensors exactly (weights, EMA, optimizer, RNG, data position)."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from imf.training import checkpoint as ckpt
from imf.core.config import ConfigError, ModelConfig, TrainConfig
from imf.data.datasets import BatchStream, DataError, load
from imf.data.folder import class_names as folder_class_names
from imf.evaluation.evaluate import debiased_ema
from imf.paths import run_dir, user_path
from imf.core.method import LOSSES, compiled_imf_loss
from imf.core.network import ImfDiT
from imf.training.presets import PRESETS


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


def with_folder(cfg: TrainConfig, root: Path, resolution: int | None, channels: int) -> TrainConfig:
    """The config for training on an image folder: its classes, the image size and channels.
    Everything that can be checked without training is checked here, before any step runs."""
    if not resolution:
        raise ConfigError("--data needs --resolution N (the square size images are cropped to)")
    patch = cfg.model.patch_size
    if resolution < 2 * patch or resolution % patch:
        raise ConfigError(f"--resolution {resolution} cannot be tiled by the network's "
                          f"{patch}x{patch} patches; use a multiple of {patch} of at least {2 * patch}")
    names = folder_class_names(root)
    model = dataclasses.replace(cfg.model, image_size=resolution, channels=channels,
                                num_classes=len(names))
    cfg = dataclasses.replace(cfg, dataset="folder", data_dir=str(root.resolve()),
                              class_names=tuple(names), model=model).validate()
    load("folder", "train", cfg)  # decodes (and caches) every file now: a bad one stops here
    return cfg


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, constant, then (cooldown_steps > 0) a linear decay that reaches 0 at
    cfg.steps. The decay is a function of the step alone, so a constant-rate run can be
    continued into its cooldown from any checkpoint."""
    warm = min(1.0, (step + 1) / max(1, cfg.warmup_steps))
    if cfg.cooldown_steps <= 0:
        return cfg.lr * warm
    return cfg.lr * min(warm, max(0.0, (cfg.steps - step) / cfg.cooldown_steps))


# The loop reads the loss (a device sync) only every LOG_EVERY steps, at checkpoints and at the end.
LOG_EVERY = 10


@torch.no_grad()
def update_ema(ema: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    """ema += (1 - decay) (net - ema) for every parameter, in one fused multi-tensor call."""
    torch._foreach_lerp_(list(ema.parameters()), list(net.parameters()), 1.0 - decay)


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
        elif step % LOG_EVERY == 0 or step == self.total:
            print(line, file=sys.stderr, flush=True)


def train(cfg: TrainConfig, out: Path, resume: bool = True, quiet: bool = False,
          time_limit_s: float | None = None, init_from: Path | None = None,
          compile_step: bool = False) -> Path:
    """Train to cfg.steps (or until time_limit_s of wall time has passed: then the reached step is
    checkpointed and the same call resumes from it). init_from: a checkpoint whose (debiased) EMA
    weights start a run that has no checkpoint of its own yet, with a fresh optimizer, for
    continuing a model of which only the EMA was kept. compile_step: torch.compile the iMF
    step's JVP pass (method.compiled_imf_loss)."""
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
    if cfg.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.set_flush_denormal(True)  # zero-initialised gates otherwise produce slow denormals
    main = rank == 0
    if main and not quiet:
        print("config:\n" + cfg.to_json(), file=sys.stderr, flush=True)

    torch.manual_seed(cfg.seed)
    net = ImfDiT(cfg.model).to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    net.use_fused_attention()  # F.scaled_dot_product_attention; the EMA (exported) stays explicit
    # fused AdamW: one kernel per step on CUDA (same update, same state_dict layout)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, betas=cfg.adam_betas,
                            weight_decay=cfg.weight_decay, fused=device.type == "cuda" or None)
    if cfg.dataset == "folder" and folder_class_names(Path(cfg.data_dir)) != list(cfg.class_names):
        raise DataError(f"the class folders in {cfg.data_dir} are not the config's classes "
                        f"{list(cfg.class_names)}")
    stream = BatchStream(load(cfg.dataset, "train", cfg), cfg.batch_size, cfg.seed, device)
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + rank)
    step = 0
    last = out / "last.safetensors"
    if resume and last.exists():
        state = ckpt.load(last)
        ckpt.check_compatible(state.config, cfg, last)
        net.load_state_dict(state.model)
        ema.load_state_dict(state.ema)
        opt.load_state_dict(state.optimizer)
        ckpt.check_optimizer_matches(opt, last)
        gen.set_state(state.rng)
        stream.restore(state.data)
        step = state.step
        if main and not quiet:
            print(f"resumed from {last} at step {step}", file=sys.stderr, flush=True)
    elif init_from is not None:
        state = ckpt.load(init_from)
        ckpt.check_compatible(state.config, cfg, init_from)
        weights = debiased_ema(state)
        net.load_state_dict(weights)
        ema.load_state_dict(weights)
        if main and not quiet:
            print(f"started from the EMA weights of {init_from} (step {state.step})",
                  file=sys.stderr, flush=True)
    if distributed:  # same seed on every rank; start from rank 0's weights all the same
        for p in net.parameters():
            dist.broadcast(p.data, 0)
    loss_fn = compiled_imf_loss() if compile_step and cfg.objective == "imf" else LOSSES[cfg.objective]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cfg.device == "cuda" and cfg.bf16)
    progress = Progress(cfg.steps, step, main and not quiet)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(cfg.to_json())
    started = time.time()
    finite = torch.ones((), dtype=torch.bool, device=device)  # every loss since the last check
    while step < cfg.steps:
        x, y = stream.next()
        if distributed:  # each rank takes its own slice of the global batch
            x, y = x[rank::world], y[rank::world]
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
        finite &= torch.isfinite(result.loss.detach())
        out_of_time = time_limit_s is not None and time.time() - started > time_limit_s
        saving = main and (step % cfg.checkpoint_every == 0 or step == cfg.steps
                           or step in cfg.keep_snapshots or out_of_time)
        if not (saving or out_of_time or step % LOG_EVERY == 0 or step == cfg.steps):
            continue
        if not bool(finite):
            raise FloatingPointError(f"loss became non-finite at or before step {step}; lower lr "
                                     f"(now {cfg.lr}) or raise warmup_steps")
        loss, loss_u, loss_v = (float(v) for v in (result.loss.detach(), result.loss_u, result.loss_v))
        progress.update(step, loss, loss_u, loss_v)
        if saving:
            state = ckpt.TrainState(step, net.state_dict(), ema.state_dict(), opt.state_dict(),
                                    gen.get_state(), stream.state(), cfg)
            ckpt.save(last, state)
            if step in cfg.keep_snapshots:
                ckpt.save(out / f"step-{step:06d}.safetensors", state)
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps({"step": step, "loss": loss, "loss_u": loss_u,
                                      "loss_v": loss_v, "time": time.time()}) + "\n")
        if out_of_time:
            if main and not quiet:
                print(f"\ntime limit reached: stopped at step {step} (checkpointed; rerun to "
                      "continue)", file=sys.stderr, flush=True)
            break
    if main and not quiet and progress.tty:
        print(file=sys.stderr)
    if distributed:
        dist.destroy_process_group()
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--id", default="imf-mnist",
                        help="the model id: the run goes to runs/<id>/ (and exports to models/<id>/)")
    parser.add_argument("--preset", help=f"one of {', '.join(PRESETS)} (default: mnist-cpu, or "
                        "folder-cpu with --data)")
    parser.add_argument("--config", type=Path, help="a JSON config file (instead of a preset)")
    parser.add_argument("--data", type=Path,
                        help="train on this image folder: one sub-folder per class, PNG or JPEG")
    parser.add_argument("--resolution", type=int, help="with --data: the square image size")
    parser.add_argument("--channels", type=int, choices=(1, 3), default=None,
                        help="with --data: 1 (grayscale) or 3 (RGB); default 3")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set steps=100 --set model.hidden_size=64")
    parser.add_argument("--out", type=Path, help="run folder for checkpoints (default runs/<id>)")
    parser.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    parser.add_argument("--init-from", type=Path,
                        help="with no checkpoint in the run folder: start from this checkpoint's "
                        "EMA weights (fresh optimizer, step 0)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the iMF step's JVP pass (faster steps after a "
                        "compile of about a minute)")
    parser.add_argument("--time-limit-minutes", type=float,
                        help="stop (checkpointed, resumable) after this much wall time")
    args = parser.parse_args(argv)
    try:
        if args.config:
            config = user_path(args.config)
            if not config.is_file():
                raise ConfigError(f"config file {config} not found")
            try:
                cfg = TrainConfig.from_dict(json.loads(config.read_text()))
            except (json.JSONDecodeError, TypeError) as err:
                raise ConfigError(f"{config}: not a valid config ({err})") from None
        else:
            preset = args.preset or ("folder-cpu" if args.data else "mnist-cpu")
            if preset not in PRESETS:
                raise ConfigError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
            cfg = PRESETS[preset]
        if args.data:
            cfg = with_folder(cfg, user_path(args.data), args.resolution, args.channels or 3)
        elif args.resolution or args.channels:
            raise ConfigError("--resolution and --channels go with --data")
        cfg = apply_overrides(cfg, args.set)
        out = user_path(args.out) if args.out else run_dir(args.id)
        limit = args.time_limit_minutes * 60 if args.time_limit_minutes else None
        init = user_path(args.init_from) if args.init_from else None
        if init is not None and not init.is_file():
            raise ConfigError(f"--init-from: {init} not found")
        if init is not None:
            cfg = dataclasses.replace(cfg, init_from=str(init))
        train(cfg, out, resume=not args.no_resume, time_limit_s=limit, init_from=init,
              compile_step=args.compile)
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
