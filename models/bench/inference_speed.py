"""Inference speed of a latent model: images/s at several batch sizes of the served graph (a model
folder as `npm run model:import` writes it) with onnxruntime (CPU, or CUDA with --provider cuda),
or of the PyTorch module the graph is exported from (--torch, on CUDA or CPU), where the sampler
and the VAE decoder are also timed apart: the measurement behind serving both in one graph with
one batch size (models/README.md). Prints a table.

    python bench/inference_speed.py --model ../models/imf-b2-in256                 # ORT, CPU
    python bench/inference_speed.py --model DIR --provider cuda                       # ORT, CUDA
    python bench/inference_speed.py --torch --checkpoint iMF-B-2.pth --vae sd-vae-ft-mse --device cuda
    python bench/inference_speed.py --torch --random B/2 --device cuda --dtype bf16   # no files needed

End to end is the sampler then the decoder on the same batch, timed together; with --torch each
is also timed alone. On a CPU the decoder takes seconds per image, so it runs only at the batches
in --decoder-batches (default: those up to 8 on CPU, all on CUDA); the table says where it did not."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imf.export.onnx_io import cpu_name, session  # noqa: E402

CPU_DECODER_MAX_BATCH = 8


def requests(batch: int, latent: list[int], num_classes: int) -> dict:
    g = np.random.default_rng(batch)
    return {"noise": g.standard_normal((batch, *latent), dtype=np.float32),
            "class": g.integers(0, num_classes, batch).astype(np.int64),
            "guidance": np.full(batch, 8.0, np.float32),
            "t_min": np.full(batch, 0.4, np.float32),
            "t_max": np.full(batch, 0.65, np.float32)}


class OrtPipeline:
    """The served graph: noise to pixels in one run; its stages cannot be timed apart."""
    stages = False

    def __init__(self, folder: Path, provider: str, threads: int):
        self.man = json.loads((folder / "model.json").read_text())
        self.graph = session(folder / self.man["graph"], threads, provider)
        self.provider = self.graph.get_providers()[0]

    def pixels(self, feeds):
        return self.graph.run(None, feeds)[0]

    def sync(self):
        pass


class TorchPipeline:
    stages = True

    def __init__(self, args):
        from imf.export.graphs import LatentSampler
        from imf.export.official_net import load_official
        from imf.export.random_official import write_sources
        from imf.export.vae import LATENT_MEAN, LATENT_STD, load_vae

        with tempfile.TemporaryDirectory() as tmp:
            if args.random:
                checkpoint, vae_dir, latent_size = write_sources(Path(tmp), args.random)
            else:
                checkpoint, vae_dir, latent_size = Path(args.checkpoint), Path(args.vae), 32
            net, _ = load_official(checkpoint, latent_size)
            vae, _, _ = load_vae(vae_dir)
        self.device = torch.device(args.device)
        self.dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
        self.sampler = LatentSampler(net, vae, LATENT_MEAN, LATENT_STD, args.nfe).eval().to(self.device)
        cfg = net.cfg
        self.man = {"id": args.random and f"random {args.random}" or Path(args.checkpoint).name,
                    "version": "-", "nfe": args.nfe, "classes": [None] * cfg.num_classes,
                    "noise": {"shape": [cfg.channels, cfg.image_size, cfg.image_size]}}
        self.provider = f"torch {args.device} {args.dtype}"

    def _auto(self):
        return torch.autocast(self.device.type, dtype=self.dtype,
                              enabled=self.dtype != torch.float32)

    def generate(self, feeds):
        t = {k: torch.from_numpy(v).to(self.device) for k, v in feeds.items()}
        with torch.inference_mode(), self._auto():
            return self.sampler.latent(*t.values()).float()

    def decode(self, latent):
        from imf.export.graphs import to_pixels
        with torch.inference_mode(), self._auto():
            return to_pixels(self.sampler.decode(latent).float())

    def pixels(self, feeds):
        return self.decode(self.generate(feeds))

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, help="a model folder (onnxruntime mode)")
    p.add_argument("--provider", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--torch", action="store_true", help="time the PyTorch modules instead")
    p.add_argument("--checkpoint", help="--torch: the official checkpoint")
    p.add_argument("--vae", help="--torch: the VAE folder")
    p.add_argument("--random", help="--torch: random weights of this size (B/2, ..., tiny)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", choices=["fp32", "bf16", "fp16"], default="fp32")
    p.add_argument("--nfe", type=int, default=1, help="--torch: sampler steps")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--decoder-batches", help=f"default: batches up to {CPU_DECODER_MAX_BATCH} on CPU")
    p.add_argument("--repeats", type=int, default=3, help="timed runs of the generator alone")
    p.add_argument("--pipeline-repeats", type=int, help="timed pipeline runs (default 1 on CPU, 3 else)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.torch:
        if not (args.random or (args.checkpoint and args.vae)):
            p.error("--torch needs --checkpoint and --vae, or --random SIZE")
        pipe = TorchPipeline(args)
        on_cpu = args.device == "cpu"
    else:
        if not args.model:
            p.error("--model DIR is required (or --torch)")
        pipe = OrtPipeline(args.model, args.provider, args.threads)
        on_cpu = pipe.provider == "CPUExecutionProvider"
    batches = [int(b) for b in args.batches.split(",")]
    dec_batches = ([int(b) for b in args.decoder_batches.split(",")] if args.decoder_batches else
                   [b for b in batches if not on_cpu or b <= CPU_DECODER_MAX_BATCH])
    pipeline_repeats = args.pipeline_repeats or (1 if on_cpu else 3)
    man = pipe.man
    latent, num_classes = man["noise"]["shape"], len(man["classes"])

    def generate(f):
        out = pipe.generate(f)
        pipe.sync()
        return out

    def pipeline(f):
        out = pipe.pixels(f)
        pipe.sync()
        return out

    pipeline(requests(1, latent, num_classes))  # warm-up: sessions, allocators, kernels
    machine = torch.cuda.get_device_name() if not on_cpu else cpu_name()
    print(f"# {man['id']} (version {man['version']}, {man['nfe']}-NFE), {pipe.provider}, "
          f"{args.threads} threads, {machine}")
    print(f"# sampler median of {args.repeats}, decoder and end to end median of "
          f"{pipeline_repeats}; images/s (seconds per batch)")
    print("| batch | sampler | decoder | end to end |")
    print("| ---: | ---: | ---: | ---: |")
    for b in batches:
        f = requests(b, latent, num_classes)
        cell = lambda s: f"{b / s:.2f} ({s:.3f} s)"  # noqa: E731
        g = "one graph"
        if pipe.stages:
            generate(f)  # warm-up at this batch size
            g = cell(timed(lambda: generate(f), args.repeats))
        if b in dec_batches:
            pipeline(f)
            d = "one graph"
            if pipe.stages:
                lat = generate(f)
                d = cell(timed(lambda: (pipe.decode(lat), pipe.sync()), pipeline_repeats))
            e = timed(lambda: pipeline(f), pipeline_repeats)
            print(f"| {b} | {g} | {d} | {cell(e)} |", flush=True)
        else:
            print(f"| {b} | {g} | not run | not run |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
