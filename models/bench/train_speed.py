"""Training speed benchmark: seconds per optimizer step of a preset's config (iMF and the MF
baseline), on this machine's CPU at 1 and 2 threads, or on CUDA when present. Prints a table.
The step is train()'s: fused attention outside the JVP, bf16 autocast on CUDA, the EMA update,
no host sync inside the timed loop; --compile adds rows with the iMF JVP pass compiled.

    python bench/train_speed.py [--preset mnist-cpu] [--steps 8] [--threads 1,2] [--compile]

Run it on an otherwise idle machine: on two shared cores anything else running skews it."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import copy  # noqa: E402

from imf.core.method import LOSSES, compiled_imf_loss  # noqa: E402
from imf.core.network import ImfDiT  # noqa: E402
from imf.training.presets import PRESETS  # noqa: E402
from imf.training.train import update_ema  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def seconds_per_step(preset: str, objective: str, device: str, threads: int, steps: int,
                     compile_step: bool = False) -> float:
    cfg = PRESETS[preset]
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    net = ImfDiT(cfg.model).to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    net.use_fused_attention()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, fused=device == "cuda" or None)
    loss_fn = compiled_imf_loss() if compile_step else LOSSES[objective]
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(cfg.batch_size, 1, 28, 28, device=device) * 2 - 1
    y = torch.randint(0, 10, (cfg.batch_size,), device=device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda" and cfg.bf16)
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        with autocast:
            loss = loss_fn(net, x, y, cfg, gen).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        update_ema(ema, net, cfg.ema_decay)
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--preset", default="mnist-cpu")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", default="1,2", help="CPU thread counts to measure")
    p.add_argument("--compile", action="store_true", help="also time the compiled iMF step")
    args = p.parse_args()
    cfg = PRESETS[args.preset]
    params = sum(t.numel() for t in ImfDiT(cfg.model).parameters())
    print(f"machine: {cpu_name()}, {torch.get_num_threads()} threads available, torch {torch.__version__}")
    print(f"preset {args.preset}: {params / 1e6:.2f}M parameters, batch {cfg.batch_size}, "
          f"{cfg.model.prefix_tokens + cfg.model.num_patches} tokens\n")
    print("| device | threads | objective | compiled | s/step | steps/s | images/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    runs = [("cpu", int(t)) for t in args.threads.split(",")]
    if torch.cuda.is_available():
        runs.append(("cuda", 1))
    for device, threads in runs:
        for objective, compiled in [("imf", False), ("mf", False)] + [("imf", True)] * args.compile:
            s = seconds_per_step(args.preset, objective, device, threads, args.steps, compiled)
            print(f"| {device} | {threads} | {objective} | {'yes' if compiled else 'no'} | "
                  f"{s:.3f} | {1 / s:.2f} | {cfg.batch_size / s:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
