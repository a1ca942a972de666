"""Train a preset for a fixed number of minutes on one GPU (or the CPU), profile its step and
write EMA weights small enough to copy back from a lent machine.

    python gpu/train_timed.py --preset mnist-gpu --minutes 5 --id imf-mnist-gpu
    npm run model:train-gpu -- --preset mnist-gpu --minutes 5 --id imf-mnist-gpu

The iMF step's JVP pass is torch.compile'd unless --no-compile. It first profiles PROFILE_STEPS steps of the real training step (torch.profiler, after warm-up)
and prints the steady-state steps/s and the top kernels by self device time (self CPU time on a
CPU), then trains with imf.training.train for --minutes of wall time (resumable: rerun to continue), and
writes runs/<id>/ema.safetensors (EMA weights only) in parts under 16 MB each when it is larger."""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imf.training import checkpoint as ckpt  # noqa: E402
from imf.core.config import ConfigError  # noqa: E402
from imf.data.datasets import BatchStream, DataError, load  # noqa: E402
from imf.core.method import LOSSES, compiled_imf_loss  # noqa: E402
from imf.core.network import ImfDiT  # noqa: E402
from imf.paths import run_dir, user_path  # noqa: E402
from imf.training.presets import PRESETS  # noqa: E402
from imf.training.train import apply_overrides, train, update_ema  # noqa: E402

PART_BYTES = 15 * 2**20  # each file that comes back stays under 16 MB


def profiled_steps(cfg, steps: int, compile_step: bool, warmup: int = 3,
                   top: int = 15) -> tuple[float, str]:
    """(steps/s, table): the training step (loss, backward, clip, AdamW, EMA) on the run's own
    data and device, timed over `steps` steps after `warmup`, then profiled over `steps` more."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    net = ImfDiT(cfg.model).to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    net.use_fused_attention()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, betas=cfg.adam_betas,
                            weight_decay=cfg.weight_decay, fused=device.type == "cuda" or None)
    stream = BatchStream(load(cfg.dataset, "train", cfg), cfg.batch_size, cfg.seed, device)
    gen = torch.Generator().manual_seed(cfg.seed)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and cfg.bf16)
    loss_fn = compiled_imf_loss() if compile_step and cfg.objective == "imf" else LOSSES[cfg.objective]

    def one_step():
        x, y = stream.next()
        with autocast:
            loss = loss_fn(net, x, y, cfg, gen).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        update_ema(ema, net, cfg.ema_decay)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        one_step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        one_step()
    sync()
    rate = steps / (time.perf_counter() - t0)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(steps):
            one_step()
        sync()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return rate, prof.key_averages().table(sort_by=key, row_limit=top)


def write_ema(last: Path, out: Path) -> list[Path]:
    """EMA-only copy of the run's checkpoint; split into PART_BYTES pieces when larger (join them
    with `cat ema.safetensors.part-* > ema.safetensors`)."""
    ema = out / "ema.safetensors"
    ckpt.ema_only(last, ema)
    data = ema.read_bytes()
    for old in out.glob("ema.safetensors.part-*"):
        old.unlink()
    if len(data) < PART_BYTES:
        return [ema]
    parts = []
    for i in range(0, len(data), PART_BYTES):
        part = out / f"ema.safetensors.part-{i // PART_BYTES:02d}"
        part.write_bytes(data[i:i + PART_BYTES])
        parts.append(part)
    ema.unlink()  # the parts are the copy that travels
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist-gpu", help=f"one of {', '.join(PRESETS)}")
    p.add_argument("--minutes", type=float, required=True, help="wall time to train for")
    p.add_argument("--id", default="imf-gpu", help="the run goes to runs/<id>/")
    p.add_argument("--out", type=Path, help="run folder (default runs/<id>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, as in imf.training.train (e.g. --set device=cpu)")
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly (by default its JVP pass is torch.compile'd; "
                   "if compiling fails the run falls back to eager and says so)")
    p.add_argument("--profile-steps", type=int, default=10,
                   help="steps timed and then profiled before training (0: no profile)")
    args = p.parse_args(argv)
    try:
        if args.preset not in PRESETS:
            raise ConfigError(f"unknown preset {args.preset!r}; presets: {', '.join(PRESETS)}")
        if args.minutes <= 0:
            raise ConfigError("--minutes must be positive")
        cfg = apply_overrides(PRESETS[args.preset], args.set)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("no CUDA device here; add --set device=cpu to run on the CPU")
        torch.set_num_threads(cfg.threads)
        torch.set_flush_denormal(True)
        if cfg.device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            name = torch.cuda.get_device_name(0)
        else:
            name = f"CPU, {cfg.threads} threads"
        print(f"{args.preset} on {name}, torch {torch.__version__}, batch {cfg.batch_size}, "
              f"bf16 {cfg.bf16 and cfg.device == 'cuda'}, compile {not args.no_compile}", flush=True)
        compile_step = not args.no_compile
        if args.profile_steps > 0:
            try:
                rate, table = profiled_steps(cfg, args.profile_steps, compile_step)
            except Exception as err:  # noqa: BLE001 - any compiler failure: train eagerly
                if not compile_step:
                    raise
                print(f"torch.compile failed ({type(err).__name__}: {str(err)[:300]}); "
                      "profiling and training eagerly", flush=True)
                compile_step = False
                rate, table = profiled_steps(cfg, args.profile_steps, compile_step)
            by = "self device time" if cfg.device == "cuda" else "self CPU time"
            print(f"\nprofile: {rate:.2f} steps/s steady state ({args.profile_steps} steps); "
                  f"top kernels by {by}:\n{table}", flush=True)
        out = user_path(args.out) if args.out else run_dir(args.id)
        before = ckpt.load(out / "last.safetensors").step if (out / "last.safetensors").exists() else 0
        t0 = time.perf_counter()
        last = train(cfg, out, time_limit_s=args.minutes * 60, compile_step=compile_step)
        wall = time.perf_counter() - t0
        reached = ckpt.load(last).step
        print(f"\ntrained steps {before} -> {reached} in {wall:.0f} s: "
              f"{(reached - before) / wall:.2f} steps/s including start-up and checkpoints",
              flush=True)
        for part in write_ema(last, out):
            print(f"EMA weights: {part} ({part.stat().st_size / 2**20:.1f} MiB)")
    except (ConfigError, DataError, ckpt.CheckpointError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
