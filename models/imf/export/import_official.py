"""Import an official iMF ImageNet-256 checkpoint and the VAE it decodes with as a served model
folder: model.onnx (noise, class, guidance, t_min, t_max -> uint8 RGB, HWC: the whole 1- or 2-NFE
sampler in latent space, the latent de-normalisation and the VAE decoder, merged into one graph)
with its weights in one model.onnx.data beside it, model.json (the manifest), reference.json
(requests with the pixels the PyTorch graph gives), MODEL_CARD.md and samples.png. The graph is
checked against PyTorch first, with the export's checks (checks.py). With --precision fp16 the
checked graph is then rewritten to float16 where it holds and measured against float32 (half.py);
its reference pixels are its own.

    npm run model:import -- --checkpoint ~/Downloads/iMF-B-2.pth --vae ~/Downloads/sd-vae-ft-mse \\
        --id imf-b2-in256 [--nfe 1|2] [--latent-size 32] [--out models/imf-b2-in256] \\
        [--precision fp32|fp16]

A random-weight folder of the exact architecture, for tests and benchmarks (never a model):

    npm run model:import -- --tiny --out DIR           # toy size, a few MB, seconds
    npm run model:import -- --random B/2 --out DIR     # full size, minutes on a CPU"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from imf.export import official_net
from imf.export import random_official
from imf.export import vae as vae_io
from imf.export.imagenet_names import imagenet_class_names
from imf.paths import MODELS_DIR, user_path
from imf.export import checks
from imf.export import half
from imf.export import onnx_io
from imf.export.graphs import INPUTS, OUTPUTS, LatentSampler, served_parameters
from imf.export.manifest import build_manifest, sha256_file
from imf.export.model_card import write_card

# Sampling settings of the official evaluation commands (README of Lyy-iiis/imeanflow, torch
# branch), by (size, NFE): omega, t_min, t_max.
OFFICIAL_DEFAULTS = {
    ("B/2", 1): (8.0, 0.4, 0.65),
    ("M/2", 1): (10.5, 0.4, 0.6),
    ("L/2", 1): (10.5, 0.4, 0.6),
    ("XL/2", 1): (8.0, 0.42, 0.62),
    ("XL/2", 2): (4.0, 0.36, 0.64),
}
FALLBACK_DEFAULTS = (8.0, 0.4, 0.65)  # the official evaluate.py's own defaults
# ImageNet 256x256 FID-50K / IS at those settings: the paper's figures and the official PyTorch
# re-implementation's, as its README reports them. Neither is measured here.
PUBLISHED = {
    ("B/2", 1): {"fid_paper": 3.39, "fid_official_pytorch": 3.32, "is_paper": 255.3},
    ("M/2", 1): {"fid_paper": 2.27, "fid_official_pytorch": 2.26, "is_paper": 257.7},
    ("L/2", 1): {"fid_paper": 1.86, "fid_official_pytorch": 1.83, "is_paper": 276.6},
    ("XL/2", 1): {"fid_paper": 1.72, "fid_official_pytorch": 1.72, "is_paper": 282.0},
    ("XL/2", 2): {"fid_paper": 1.54, "fid_official_pytorch": 1.54, "is_paper": None},
}
GUIDANCE_MAX = 12.0  # the official M/2 and L/2 are evaluated at 10.5; 1 - 1/omega stays < 0.92

PARITY_BATCHES = (1, 4)
GRID_CLASSES = (207, 388, 980, 88, 279, 417, 973, 812)  # retriever, panda, volcano, macaw, ...


class ImportFailure(RuntimeError):
    """An import that cannot go on; the message says why."""


def check_id(model_id: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", model_id):
        raise ValueError(f"model id {model_id!r} must be lowercase letters, digits and '-' "
                         "(it names the folder and appears in image URLs)")


def floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


# -- the grid ---------------------------------------------------------------------------------

def write_grid(path: Path, session, classes: list[int], seeds: list[int], defaults: dict,
               latent: tuple, columns: int = 4) -> dict:
    """samples.png from the served graph: one tile per (seed, class), at the default settings."""
    from PIL import Image

    requests = [{"seed": s, "class": c, "guidance": defaults["guidance"],
                 "t_min": defaults["interval"][0], "t_max": defaults["interval"][1]}
                for s in seeds for c in classes]
    feeds = checks.feeds_for(requests, latent)
    tiles = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    n, h, w, c = tiles.shape
    cols = min(columns, n)
    rows = -(-n // cols)
    gap = 2
    canvas = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, c), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, k = divmod(i, cols)
        canvas[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = tile
    Image.fromarray(canvas[..., 0] if c == 1 else canvas).save(path)
    return {"file": path.name, "classes": classes, "seeds": seeds, "columns": cols}


# -- the import -------------------------------------------------------------------------------

def defaults_for(size: str | None, nfe: int, args) -> dict:
    published = OFFICIAL_DEFAULTS.get((size, nfe))
    omega, t_min, t_max = published or FALLBACK_DEFAULTS
    omega = args.omega if args.omega is not None else omega
    t_min = args.t_min if args.t_min is not None else t_min
    t_max = args.t_max if args.t_max is not None else t_max
    if not 1.0 <= omega <= args.guidance_max:
        raise ValueError(f"--omega {omega} is outside [1, --guidance-max {args.guidance_max}]")
    if not 0.0 <= t_min < t_max <= 1.0:
        raise ValueError(f"need 0 <= t_min < t_max <= 1, got [{t_min}, {t_max}]")
    source = ("the official evaluation command for this size and NFE" if published else
              "the official evaluate.py defaults (no published setting for this size and NFE)")
    if args.omega is not None or args.t_min is not None or args.t_max is not None:
        source = "set at import"
    return {"guidance": omega, "interval": [t_min, t_max], "guidance_max": args.guidance_max,
            "source": source}


def import_model(args, checkpoint: Path, vae_dir: Path, out: Path, model_id: str,
                 random_size: str | None = None) -> dict:
    torch.set_num_threads(args.threads)
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))  # noqa: E731
    t_start = time.perf_counter()
    net, state = official_net.load_official(checkpoint, args.latent_size)
    cfg = net.cfg
    size = official_net.size_name(cfg)
    vae, vae_config, vae_weights = vae_io.load_vae(vae_dir)
    latent_channels = vae_config.get("latent_channels", 4)
    if latent_channels != cfg.channels:
        raise ImportFailure(f"the VAE's latents have {latent_channels} channels, the checkpoint's "
                           f"{cfg.channels}")
    mean = args.latent_mean or (vae_io.LATENT_MEAN if cfg.channels == 4 else None)
    std = args.latent_std or (vae_io.LATENT_STD if cfg.channels == 4 else None)
    if mean is None or std is None or len(mean) != cfg.channels or len(std) != cfg.channels:
        raise ValueError(f"--latent-mean and --latent-std need {cfg.channels} values each")
    out_channels = vae_config.get("out_channels", 3)
    if out_channels not in (1, 3):
        raise ImportFailure(f"the VAE decodes to {out_channels} channels; only RGB (3) or "
                           "grayscale (1) images are served")
    native = cfg.image_size * vae_io.upsampling(vae_config)
    latent = (cfg.channels, cfg.image_size, cfg.image_size)
    defaults = defaults_for(size, args.nfe, args)
    classes = (imagenet_class_names() if cfg.num_classes == 1000
               else [str(i) for i in range(cfg.num_classes)])
    log(f"{checkpoint.name}: iMF-{size or 'custom'} ({cfg.hidden_size} wide, {cfg.shared_depth} "
        f"shared + {cfg.head_depth} u-head blocks, {cfg.num_heads} heads), {cfg.num_classes} "
        f"classes; VAE {native}x{native}x{out_channels}; {args.nfe}-NFE")

    out.mkdir(parents=True, exist_ok=True)
    sampler = LatentSampler(net, vae, mean, std, args.nfe).eval()
    requests = [checks.resolve_request(r, defaults, cfg.num_classes)
                for r in checks.REFERENCE_REQUESTS]
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        # the float32 graph is checked against PyTorch first; a float16 import rewrites it
        float32_dir = out if args.precision == "fp32" else Path(scratch)
        example = checks.random_requests(2, latent, cfg.num_classes, args.guidance_max,
                                         torch.Generator().manual_seed(1))
        files = onnx_io.export_graph(sampler, tuple(example.values()), float32_dir, "model.onnx",
                                     INPUTS, OUTPUTS)
        log(f"exported in {time.perf_counter() - t_start:.0f} s: " + ", ".join(
            f"{f} {(float32_dir / f).stat().st_size / 1e6:.1f} MB" for f in files))
        session = onnx_io.session(float32_dir / "model.onnx", args.threads)
        parity = checks.parity(sampler, session, latent, cfg.num_classes, args.guidance_max,
                               PARITY_BATCHES)
        log(f"parity {parity['batches']}")
        if args.precision == "fp32":
            reference, reference_parity, seconds = checks.reference(sampler, session, requests,
                                                                    latent)
            precision = half.manifest_precision("float32")
        else:
            files = half.write_float16(float32_dir / "model.onnx", out, "model.onnx")
            log("float16: " + ", ".join(f"{f} {(out / f).stat().st_size / 1e6:.1f} MB"
                                        for f in files))
            session = onnx_io.session(out / "model.onnx", args.threads)
            reference, reference_parity, seconds, against = half.reference(
                sampler, session, requests, latent)
            precision = half.manifest_precision("float16", against, len(requests))
            log(f"float16 against float32 on the reference requests: {against}")
    log(f"reference parity {reference_parity}; seconds per image {seconds:.3f}")
    grid = write_grid(out / "samples.png", session,
                      [c % cfg.num_classes for c in args.grid_classes], args.grid_seeds,
                      defaults, latent)
    nfe_text = ("x = z - u(z, h = 1, omega, t_min, t_max, class)" if args.nfe == 1 else
                "z' = z - u(z, h = 0.5, ...) / 2, x = z' - u(z', h = 0.5, ...) / 2")
    checkpoint_params = sum(t.numel() for t in state.values())
    published = None
    if (size, args.nfe) in PUBLISHED and not random_size:
        omega, t_min, t_max = OFFICIAL_DEFAULTS[(size, args.nfe)]
        published = {**PUBLISHED[(size, args.nfe)], "omega": omega, "interval": [t_min, t_max],
                     "note": "ImageNet 256x256 FID-50K of the official weights of this size, as "
                             "reported by the paper and by the official repository; not measured "
                             "here, and only this model's if the checkpoint is that file"}
    extra = {"published": published} if published else {}
    manifest = build_manifest(
        model_id=model_id, folder=out, files=files, noise_shape=list(latent),
        channels=out_channels, height=native, width=native,
        image_meaning=f"VAE.decode(latent * std + mean) for the sampled latent {nfe_text}",
        classes=classes, null_class=cfg.null_class,
        guidance={"min": 1.0, "max": args.guidance_max, "default": defaults["guidance"]},
        interval=defaults["interval"], nfe=args.nfe,
        method=f"improved MeanFlow (arXiv 2512.02012), {args.nfe} network evaluation"
               f"{'s' if args.nfe > 1 else ''} in latent space, then a VAE decoder",
        parameters=served_parameters(sampler),
        seconds_per_image={"seconds": round(seconds, 4), "batch": 1,
                           "provider": "CPUExecutionProvider", "threads": args.threads,
                           "machine": onnx_io.cpu_name(),
                           "measured": "at import, median over the reference requests"},
        defaults_source=defaults["source"],
        reference="reference.json",
        samples=grid,
        precision=precision,
        parity={**parity, "reference": reference_parity,
                "latent_denormalization": {"mean": list(mean), "std": list(std)}},
        source={
            "kind": ("random weights: a test fixture, NOT a trained model" if random_size else
                     "a checkpoint in the official iMF format (Lyy-iiis/imeanflow)"),
            "checkpoint": {"file": checkpoint.name, "sha256": sha256_file(checkpoint),
                           "bytes": checkpoint.stat().st_size},
            "architecture": {"name": f"iMF-{size}" if size else "custom", **dataclasses.asdict(cfg),
                             "head_dim": cfg.head_dim, "parameters": checkpoint_params},
            "vae": {"config": {k: v for k, v in vae_config.items() if not k.startswith("_")},
                    "weights": {"file": vae_weights.name, "sha256": sha256_file(vae_weights)}},
            "command": args.command,
            "imported_on": onnx_io.cpu_name(),
        },
        **extra,
    )
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    checks.write_reference(out / "reference.json", reference, manifest["version"])
    write_card(out / "MODEL_CARD.md", manifest)
    log(f"wrote {out} (version {manifest['version']}) in {time.perf_counter() - t_start:.0f} s")
    return manifest


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="the official .pth (a flat state dict)")
    p.add_argument("--vae", help="a diffusers AutoencoderKL folder (e.g. sd-vae-ft-mse)")
    p.add_argument("--id", help="the model id; the folder name unless --out says otherwise")
    p.add_argument("--out", help="the model folder to write (default models/<id>)")
    p.add_argument("--nfe", type=int, choices=(1, 2), default=1)
    p.add_argument("--latent-size", type=int, default=32, help="latent side (32 for 256x256)")
    p.add_argument("--omega", type=float, help="default guidance (default: the official one)")
    p.add_argument("--t-min", type=float, help="default interval start")
    p.add_argument("--t-max", type=float, help="default interval end")
    p.add_argument("--guidance-max", type=float, default=GUIDANCE_MAX)
    p.add_argument("--latent-mean", type=floats, help="comma-separated, one per latent channel")
    p.add_argument("--latent-std", type=floats, help="comma-separated, one per latent channel")
    p.add_argument("--grid-classes", type=lambda s: [int(x) for x in s.split(",")],
                   default=list(GRID_CLASSES))
    p.add_argument("--grid-seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0])
    p.add_argument("--precision", choices=tuple(half.PRECISIONS), default="fp32",
                   help="what the graph computes in: fp16 halves the weights and runs the network "
                        "and the VAE decoder in float16 on the GPU (inputs and output unchanged)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--tiny", action="store_true", help="= --random tiny")
    p.add_argument("--random", choices=["tiny", *official_net.SIZES.values()],
                   help="import random weights of this size (a test fixture, never a model)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --random weights")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.tiny:
        args.random = "tiny"
    return p, args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p, args = parse_args(argv)
    via_npm = os.environ.get("npm_lifecycle_event") == "model:import"
    args.command = ("npm run model:import -- " if via_npm else "python -m imf.export.import_official "
                    ) + " ".join(shlex.quote(a) for a in argv)
    try:
        if args.random:
            if not args.out:
                p.error("--random/--tiny need --out")
            out = user_path(args.out)
            model_id = args.id or out.name
            check_id(model_id)
            with tempfile.TemporaryDirectory() as tmp:
                checkpoint, vae_dir, latent_size = random_official.write_sources(
                    Path(tmp), args.random, args.seed)
                args.latent_size = latent_size
                import_model(args, checkpoint, vae_dir, out, model_id, random_size=args.random)
        else:
            if not (args.checkpoint and args.vae and args.id):
                p.error("--checkpoint, --vae and --id are required (or --tiny / --random SIZE)")
            check_id(args.id)
            out = user_path(args.out) if args.out else MODELS_DIR / args.id
            import_model(args, user_path(args.checkpoint), user_path(args.vae), out, args.id)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
