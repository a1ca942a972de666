"""Import an official iMF ImageNet-256 checkpoint and the VAE it decodes with as a served model
folder: generator.onnx (noise, class, guidance, t_min, t_max -> latent; the whole 1- or 2-NFE
sampler), decoder.onnx (latent -> uint8 RGB, HWC), each with its weights in one .data file beside
it, model.json (the staged manifest), reference.json (requests with the pixels the PyTorch
reference gives), MODEL_CARD.md and samples.png. Every graph is checked against PyTorch first.

    npm run model:import -- --checkpoint ~/Downloads/iMF-B-2.pth --vae ~/Downloads/sd-vae-ft-mse \\
        --id imf-b2-in256 [--nfe 1|2] [--latent-size 32] [--out models/imf-b2-in256]

A random-weight folder of the exact architecture, for tests and benchmarks (never a model):

    python -m imf.import_official --tiny --out DIR           # toy size, a few MB, seconds
    python -m imf.import_official --random B/2 --out DIR     # full size, minutes on a CPU"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from . import graph_export, official_net, random_official, vae as vae_io
from .imagenet_names import imagenet_class_names
from .imported_card import write_card
from .latent_graphs import (DECODER_INPUTS, DECODER_OUTPUTS, GENERATOR_INPUTS, GENERATOR_OUTPUTS,
                            LatentDecoder, LatentGenerator, decoder_parameters,
                            generator_parameters)
from .noise import NAME as NOISE_NAME
from .noise import batch_noise
from .staged_manifest import build_manifest, tensor

MODELS_DIR = Path(__file__).resolve().parents[1]
NPM_SCRIPT = "model:import"

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

GENERATOR_PARITY_BATCHES = (1, 4)
GENERATOR_TOLERANCE = 1e-3  # latents are O(1) to O(10); float32 reordering gives ~1e-5
DECODER_TOLERANCE_SHARE = 1e-3  # at most this share of 8-bit values may differ, and by 1 only
GRID_CLASSES = (207, 388, 980, 88, 279, 417, 973, 812)  # retriever, panda, volcano, macaw, ...

# Requests whose pixels the worker must reproduce. None: the model's default; "null": the
# unconditional class; guidance above the model's maximum is clipped to it.
REFERENCE_REQUESTS = [
    {"seed": 0, "class": 207, "guidance": None, "t_min": None, "t_max": None},
    {"seed": 1, "class": 388, "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},
    {"seed": 42, "class": 980, "guidance": 4.0, "t_min": 0.36, "t_max": 0.64},
    {"seed": 2147483648, "class": 1, "guidance": 12.0, "t_min": 0.2, "t_max": 0.8},
    {"seed": 4294967295, "class": "null", "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},
]


class ImportFailure(RuntimeError):
    """An import that cannot go on; the message says why."""


def caller_path(value: str) -> Path:
    """A path as the user meant it: `npm run model:import` runs in models/, so relative paths
    are taken from where npm was started (INIT_CWD) rather than from models/."""
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return path
    if os.environ.get("npm_lifecycle_event") == NPM_SCRIPT and os.environ.get("INIT_CWD"):
        return Path(os.environ["INIT_CWD"]) / path
    return Path.cwd() / path


def check_id(model_id: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", model_id):
        raise ValueError(f"model id {model_id!r} must be lowercase letters, digits and '-' "
                         "(it names the folder and appears in image URLs)")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(16 << 20):
            h.update(chunk)
    return h.hexdigest()


def floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


# -- checks -----------------------------------------------------------------------------------

def random_requests(n: int, latent: tuple, num_classes: int, gen: torch.Generator) -> dict:
    return {"noise": torch.randn(n, *latent, generator=gen),
            "class": torch.randint(0, num_classes + 1, (n,), generator=gen),
            "guidance": 1 + (GUIDANCE_MAX - 1) * torch.rand(n, generator=gen),
            "t_min": 0.5 * torch.rand(n, generator=gen),
            "t_max": 0.5 + 0.5 * torch.rand(n, generator=gen)}


def generator_parity(generator: LatentGenerator, session, latent: tuple, num_classes: int,
                     batches=GENERATOR_PARITY_BATCHES) -> dict:
    """Max abs difference of onnxruntime against PyTorch on random requests, per batch size."""
    gen = torch.Generator().manual_seed(0)
    diffs = {}
    for b in batches:
        feeds = random_requests(b, latent, num_classes, gen)
        with torch.no_grad():
            expected = generator(*feeds.values()).numpy()
        got = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
        diffs[str(b)] = float(np.abs(got - expected).max())
    worst = max(diffs.values())
    if not worst <= GENERATOR_TOLERANCE:
        raise ImportFailure(f"generator ONNX parity failed: max abs diff {worst} > "
                           f"{GENERATOR_TOLERANCE} ({diffs})")
    return {"max_abs_diff": diffs, "tolerance": GENERATOR_TOLERANCE}


def pixel_diff(got: np.ndarray, expected: np.ndarray) -> dict:
    d = np.abs(got.astype(np.int16) - expected.astype(np.int16))
    return {"max": int(d.max()), "differing": int((d > 0).sum()), "values": int(d.size)}


def check_pixels(what: str, diff: dict) -> None:
    if diff["max"] > 1 or diff["differing"] > DECODER_TOLERANCE_SHARE * diff["values"]:
        raise ImportFailure(f"{what}: ONNX pixels differ from PyTorch's too much ({diff})")


# -- the reference and the grid -----------------------------------------------------------------

def resolve_request(req: dict, defaults: dict, num_classes: int) -> dict:
    omega, t_min, t_max = defaults["guidance"], *defaults["interval"]
    cls = num_classes if req["class"] == "null" else req["class"] % num_classes
    return {"seed": req["seed"], "class": cls,
            "guidance": min(req["guidance"] if req["guidance"] is not None else omega,
                            defaults["guidance_max"]),
            "t_min": req["t_min"] if req["t_min"] is not None else t_min,
            "t_max": req["t_max"] if req["t_max"] is not None else t_max}


def feeds_for(requests: list[dict], latent: tuple) -> dict:
    return {"noise": batch_noise([r["seed"] for r in requests], latent),
            "class": torch.tensor([r["class"] for r in requests], dtype=torch.int64),
            "guidance": torch.tensor([r["guidance"] for r in requests], dtype=torch.float32),
            "t_min": torch.tensor([r["t_min"] for r in requests], dtype=torch.float32),
            "t_max": torch.tensor([r["t_max"] for r in requests], dtype=torch.float32)}


def reference(generator, decoder, gen_session, dec_session, requests: list[dict],
              latent: tuple) -> tuple[list[dict], dict, dict]:
    """Each request's pixels from PyTorch alone in its batch, compared with onnxruntime alone and
    all together in one batch. Also times onnxruntime per stage at batch 1."""
    rows, onnx_alone, times = [], [], {"generator": [], "decoder": []}
    for req in requests:
        feeds = feeds_for([req], latent)
        with torch.no_grad():
            pixels = decoder(generator(*feeds.values()))[0].numpy()
        t0 = time.perf_counter()
        lat = gen_session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
        t1 = time.perf_counter()
        got = dec_session.run(None, {"latent": lat})[0][0]
        t2 = time.perf_counter()
        times["generator"].append(t1 - t0)
        times["decoder"].append(t2 - t1)
        onnx_alone.append(got)
        raw = pixels.tobytes()
        rows.append({**req, "pixels_base64": base64.b64encode(raw).decode(),
                     "pixels_sha256": hashlib.sha256(raw).hexdigest(),
                     "onnx_pixel_diff": pixel_diff(got, pixels)})
    expected = np.stack([np.frombuffer(base64.b64decode(r["pixels_base64"]), np.uint8)
                         for r in rows])
    feeds = feeds_for(requests, latent)
    lat = gen_session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    batched = dec_session.run(None, {"latent": lat})[0].reshape(len(rows), -1)
    parity = {"alone": pixel_diff(np.stack(onnx_alone).reshape(len(rows), -1), expected),
              "one_batch": pixel_diff(batched, expected)}
    check_pixels("pipeline (alone)", parity["alone"])
    check_pixels("pipeline (one batch)", parity["one_batch"])
    timed = lambda xs: statistics.median(xs[1:] if len(xs) > 1 else xs)  # noqa: E731 (first warms up)
    return rows, parity, {k: timed(v) for k, v in times.items()}


def write_grid(path: Path, gen_session, dec_session, classes: list[int], seeds: list[int],
               defaults: dict, latent: tuple, columns: int = 4) -> dict:
    """samples.png from the served graphs: one tile per (seed, class), at the default settings."""
    from PIL import Image

    requests = [{"seed": s, "class": c, "guidance": defaults["guidance"],
                 "t_min": defaults["interval"][0], "t_max": defaults["interval"][1]}
                for s in seeds for c in classes]
    feeds = feeds_for(requests, latent)
    lat = gen_session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    tiles = dec_session.run(None, {"latent": lat})[0]
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
    native = cfg.latent_size * vae_io.upsampling(vae_config)
    latent = (cfg.channels, cfg.latent_size, cfg.latent_size)
    defaults = defaults_for(size, args.nfe, args)
    classes = (imagenet_class_names() if cfg.num_classes == 1000
               else [str(i) for i in range(cfg.num_classes)])
    log(f"{checkpoint.name}: iMF-{size or 'custom'} ({cfg.hidden_size} wide, {cfg.shared_depth} "
        f"shared + {cfg.u_head_depth} u-head blocks, {cfg.num_heads} heads), {cfg.num_classes} "
        f"classes; VAE {native}x{native}x{out_channels}; {args.nfe}-NFE")

    out.mkdir(parents=True, exist_ok=True)
    generator = LatentGenerator(net, args.nfe).eval()
    decoder = LatentDecoder(vae, mean, std).eval()
    example = random_requests(2, latent, cfg.num_classes, torch.Generator().manual_seed(1))
    gen_files = graph_export.export_graph(generator, tuple(example.values()), out,
                                          "generator.onnx", GENERATOR_INPUTS, GENERATOR_OUTPUTS)
    with torch.no_grad():
        example_latent = generator(*example.values())
    dec_files = graph_export.export_graph(decoder, (example_latent,), out, "decoder.onnx",
                                          DECODER_INPUTS, DECODER_OUTPUTS)
    log(f"exported in {time.perf_counter() - t_start:.0f} s: "
        + ", ".join(f"{f} {(out / f).stat().st_size / 1e6:.1f} MB" for f in gen_files + dec_files))

    gen_session = graph_export.session(out / "generator.onnx", args.threads)
    dec_session = graph_export.session(out / "decoder.onnx", args.threads)
    gen_parity = generator_parity(generator, gen_session, latent, cfg.num_classes)
    log(f"generator parity {gen_parity['max_abs_diff']}")
    requests = [resolve_request(r, defaults, cfg.num_classes) for r in REFERENCE_REQUESTS]
    rows, pipeline_parity, seconds = reference(generator, decoder, gen_session, dec_session,
                                               requests, latent)
    log(f"pipeline parity {pipeline_parity}; seconds per image {seconds}")
    grid = write_grid(out / "samples.png", gen_session, dec_session,
                      [c % cfg.num_classes for c in args.grid_classes], args.grid_seeds,
                      defaults, latent)

    timing = lambda s: {"seconds": round(s, 4), "batch": 1, "provider": "CPUExecutionProvider",  # noqa: E731
                        "threads": args.threads, "machine": graph_export.cpu_name(),
                        "measured": "at import, median over the reference requests"}
    image = {"channels": out_channels, "height": native, "width": native,
             "color": "rgb" if out_channels == 3 else "grayscale"}
    scalar = lambda name, meaning: tensor(name, "float32", ["batch"], meaning)  # noqa: E731
    latent_shape = ["batch", *latent]
    nfe_text = ("x = z - u(z, h = 1, omega, t_min, t_max, class)" if args.nfe == 1 else
                "z' = z - u(z, h = 0.5, ...) / 2, x = z' - u(z', h = 0.5, ...) / 2")
    stages = {
        "generator": {
            "graph": "generator.onnx", "files": gen_files,
            "inputs": [
                tensor("noise", "float32", latent_shape,
                       "N(0, 1) noise z from the noise generator, one seed per image"),
                tensor("class", "int64", ["batch"], "class index; null_class for unconditional"),
                scalar("guidance", "classifier-free guidance scale omega (1 = no guidance)"),
                scalar("t_min", "start of the guidance interval"),
                scalar("t_max", "end of the guidance interval"),
            ],
            "outputs": [tensor("latent", "float32", latent_shape,
                               f"the sampled latent, {nfe_text}; unbounded")],
            "nfe": args.nfe,
            "parameters": generator_parameters(net),
            "seconds_per_image": timing(seconds["generator"]),
        },
        "decoder": {
            "graph": "decoder.onnx", "files": dec_files,
            "inputs": [tensor("latent", "float32", latent_shape, "the generator's latent")],
            "outputs": [tensor("image", "uint8", ["batch", native, native, out_channels],
                               "pixels, round(clip((VAE.decode(latent * std + mean) + 1) / 2 "
                               "* 255, 0, 255))", layout="NHWC")],
            "parameters": decoder_parameters(vae),
            "latent_denormalization": {"mean": list(mean), "std": list(std)},
            "seconds_per_image": timing(seconds["decoder"]),
        },
    }
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
        model_id=model_id, folder=out, stages=stages, image=image, classes=classes,
        null_class=cfg.null_class,
        guidance={"min": 1.0, "max": args.guidance_max, "default": defaults["guidance"]},
        interval=defaults["interval"], noise_shape=list(latent), nfe=args.nfe,
        method=f"improved MeanFlow (arXiv 2512.02012), {args.nfe} network evaluation"
               f"{'s' if args.nfe > 1 else ''} in latent space, then a VAE decoder",
        defaults_source=defaults["source"],
        reference="reference.json",
        samples=grid,
        parity={"generator": gen_parity, "pipeline_pixels": pipeline_parity,
                "pixel_tolerance": {"max": 1, "share": DECODER_TOLERANCE_SHARE}},
        source={
            "kind": ("random weights: a test fixture, NOT a trained model" if random_size else
                     "a checkpoint in the official iMF format (Lyy-iiis/imeanflow)"),
            "checkpoint": {"file": checkpoint.name, "sha256": sha256_file(checkpoint),
                           "bytes": checkpoint.stat().st_size},
            "architecture": {"name": f"iMF-{size}" if size else "custom", **cfg.to_dict(),
                             "num_heads": cfg.num_heads, "parameters": checkpoint_params},
            "vae": {"config": {k: v for k, v in vae_config.items() if not k.startswith("_")},
                    "weights": {"file": vae_weights.name, "sha256": sha256_file(vae_weights)}},
            "command": args.command,
            "imported_on": graph_export.cpu_name(),
        },
        **extra,
    )
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    ref = {"model_version": manifest["version"], "noise": NOISE_NAME,
           "pixels": {"layout": "HWC", "dtype": "uint8", "shape": [native, native, out_channels]},
           "requests": rows}
    (out / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")
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
    via_npm = os.environ.get("npm_lifecycle_event") == NPM_SCRIPT
    args.command = ("npm run model:import -- " if via_npm else "python -m imf.import_official "
                    ) + " ".join(shlex.quote(a) for a in argv)
    try:
        if args.random:
            if not args.out:
                p.error("--random/--tiny need --out")
            out = caller_path(args.out)
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
            out = caller_path(args.out) if args.out else MODELS_DIR / args.id
            import_model(args, caller_path(args.checkpoint), caller_path(args.vae), out, args.id)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
