"""Export a trained checkpoint (EMA weights) as a shipped model folder models/<id>/:
model.onnx (the whole one-step sampler), model.json (the manifest the worker validates),
reference.json (requests with the 8-bit pixels the Python sampler gives them), and, from an
evaluation folder, samples.png, omega-sweep.png and the numbers for MODEL_CARD.md.

    npm run model:export -- --id ID    # runs/ID/last.safetensors + runs/ID/eval -> models/ID/

The default guidance is the one the evaluation chose (--omega/--t-min/--t-max override it)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from . import checkpoint as ckpt
from .data import REPO_ROOT, class_names
from .evaluate import load_ema
from .model_card import write_card
from .noise import NAME as NOISE_NAME
from .noise import batch_noise
from .paths import MODELS_DIR, run_dir, user_path
from .sampler_graph import INPUT_SPECS, INPUTS, OUTPUT_SPECS, OUTPUTS, OneStepSampler, to_uint8

OPSET = 17
PARITY_BATCHES = (1, 7, 64)
PARITY_TOLERANCE = 1e-4

# Requests whose pixels the worker must reproduce: classes, scales and intervals across the range.
REFERENCE_REQUESTS = [
    {"seed": 0, "class": 0, "guidance": 3.0, "t_min": 0.0, "t_max": 1.0},
    {"seed": 1, "class": 1, "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},
    {"seed": 42, "class": 7, "guidance": 2.0, "t_min": 0.0, "t_max": 1.0},
    {"seed": 1234567, "class": 3, "guidance": 4.5, "t_min": 0.1, "t_max": 0.9},
    {"seed": 2147483648, "class": 8, "guidance": 6.0, "t_min": 0.3, "t_max": 0.7},
    {"seed": 4294967295, "class": 5, "guidance": 1.5, "t_min": 0.0, "t_max": 0.5},
    {"seed": 7, "class": 10, "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},  # the null class
    {"seed": 99, "class": 9, "guidance": 8.0, "t_min": 0.0, "t_max": 1.0},
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_onnx(sampler: OneStepSampler, path: Path, shape: tuple[int, int, int]) -> None:
    b = 2
    args = (torch.randn(b, *shape), torch.tensor([0, 1]), torch.full((b,), 2.0),
            torch.zeros(b), torch.ones(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(sampler, args, str(path), input_names=INPUTS, output_names=OUTPUTS,
                          dynamic_axes={k: {0: "batch"} for k in INPUTS + OUTPUTS},
                          opset_version=OPSET, dynamo=False)


def check_parity(sampler: OneStepSampler, path: Path, shape, num_classes: int) -> dict:
    """Max abs difference between onnxruntime and PyTorch for several batch sizes."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(0)
    result = {}
    for b in PARITY_BATCHES:
        feeds = {
            "noise": torch.randn(b, *shape, generator=gen),
            "class": torch.randint(0, num_classes + 1, (b,), generator=gen),
            "guidance": 1 + 7 * torch.rand(b, generator=gen),
            "t_min": 0.5 * torch.rand(b, generator=gen),
            "t_max": 0.5 + 0.5 * torch.rand(b, generator=gen),
        }
        with torch.no_grad():
            expected = sampler(*feeds.values()).numpy()
        got = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
        result[str(b)] = float(np.abs(got - expected).max())
    worst = max(result.values())
    if worst > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX parity failed: max abs diff {worst} > {PARITY_TOLERANCE} ({result})")
    return {"batches": result, "tolerance": PARITY_TOLERANCE}


def reference_outputs(sampler: OneStepSampler, shape, num_classes: int) -> list[dict]:
    """The 8-bit pixels the PyTorch sampler gives each reference request, alone in its batch.
    Class 10 in REFERENCE_REQUESTS stands for the null class; others wrap to the model's classes."""
    rows = []
    for req in REFERENCE_REQUESTS:
        cls = num_classes if req["class"] == 10 else req["class"] % num_classes
        req = {**req, "class": cls}
        with torch.no_grad():
            img = sampler(batch_noise([req["seed"]], shape), torch.tensor([req["class"]]),
                          torch.tensor([req["guidance"]]), torch.tensor([req["t_min"]]),
                          torch.tensor([req["t_max"]]))
        pixels = to_uint8(img)[0].numpy().tobytes()
        rows.append({**req, "pixels_base64": base64.b64encode(pixels).decode(),
                     "pixels_sha256": hashlib.sha256(pixels).hexdigest()})
    return rows


def manifest(model_id: str, onnx_sha: str, cfg, step: int, omega: float, interval, evaluation,
             parity, train_command: str) -> dict:
    """The manifest (contract/manifest.schema.json): images are [batch, C, H, W], scalars [batch]."""
    m = cfg.model
    shape = [m.channels, m.image_size, m.image_size]

    def tensor(name: str, dtype: str, meaning: str) -> dict:
        dims = ["batch", *shape] if name in ("noise", "image") else ["batch"]
        return {"name": name, "dtype": dtype, "shape": dims, "meaning": meaning}

    return {
        "schema": "imf-model/1",
        "id": model_id,
        "version": onnx_sha[:16],
        "sha256": onnx_sha,
        "file": "model.onnx",
        "method": "improved MeanFlow (arXiv 2512.02012), one network evaluation",
        "nfe": 1,
        "image": {"channels": m.channels, "height": m.image_size, "width": m.image_size,
                  "layout": "NCHW", "range": [-1.0, 1.0],
                  "to_uint8": "round(clamp((x + 1) * 127.5, 0, 255))"},
        "inputs": [tensor(*spec) for spec in INPUT_SPECS],
        "outputs": [tensor(*spec) for spec in OUTPUT_SPECS],
        "classes": class_names(cfg),
        "null_class": m.null_class,
        "guidance": {"min": 1.0, "max": round(1.0 + cfg.s_max, 6), "default": omega},
        "interval": {"default": list(interval)},
        "noise": {"generator": NOISE_NAME, "seed": "uint32", "shape": shape, "order": "CHW",
                  "spec": "models/noise/SPEC.md", "test_vectors": "models/noise/test-vectors.json"},
        "reference": "reference.json",
        "parity": parity,
        "training": {"command": train_command, "steps": step, "config": cfg.to_dict()},
        "evaluation": evaluation,
    }


def default_train_command(cfg, model_id: str) -> str:
    """The npm command that trains a run like cfg (paths inside the repository relative to it)."""
    if cfg.dataset != "folder":
        return f"npm run model:train -- --id {model_id}"
    data = Path(cfg.data_dir)
    if data.is_relative_to(REPO_ROOT):
        data = data.relative_to(REPO_ROOT)
    return (f"npm run model:train -- --data {data} --resolution {cfg.model.image_size} "
            f"--channels {cfg.model.channels} --id {model_id}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--id", default="imf-mnist", help="the model id (default imf-mnist)")
    p.add_argument("--checkpoint", type=Path, help="default runs/<id>/last.safetensors")
    p.add_argument("--eval", type=Path, help="an evaluation folder (eval.json, samples.png, ...); "
                   "default runs/<id>/eval when it exists")
    p.add_argument("--out", type=Path, help="the model folder to write (default models/<id>)")
    p.add_argument("--omega", type=float, help="default guidance scale (default: the one the "
                   "evaluation chose, else 3)")
    p.add_argument("--t-min", type=float)
    p.add_argument("--t-max", type=float)
    p.add_argument("--train-command", help="the command(s) that trained the checkpoint, one per "
                   "line (default: the npm command for the run's data)")
    args = p.parse_args(argv)
    try:
        run = run_dir(args.id)
        args.checkpoint = user_path(args.checkpoint) if args.checkpoint else run / "last.safetensors"
        if args.eval:
            args.eval = user_path(args.eval)
        elif (run / "eval" / "eval.json").is_file():
            args.eval = run / "eval"
        args.out = user_path(args.out) if args.out else MODELS_DIR / args.id
        chosen = {}
        if args.eval and (args.eval / "eval.json").is_file():
            chosen = json.loads((args.eval / "eval.json").read_text()).get("guidance", {})
        args.omega = args.omega if args.omega is not None else chosen.get("omega", 3.0)
        args.t_min = args.t_min if args.t_min is not None else chosen.get("t_min", 0.0)
        args.t_max = args.t_max if args.t_max is not None else chosen.get("t_max", 1.0)
        net, cfg, step = load_ema(args.checkpoint)
        if cfg.objective != "imf":
            raise ckpt.CheckpointError(f"{args.checkpoint} was trained with objective "
                                       f"{cfg.objective!r}; only iMF models are served")
        if not 1.0 <= args.omega <= 1.0 + cfg.s_max:
            raise ValueError(f"--omega must be within the trained range [1, {1 + cfg.s_max}]")
        if not 0 <= args.t_min < args.t_max <= 1:
            raise ValueError("need 0 <= t_min < t_max <= 1")
        evaluation = {}
        if args.eval:
            eval_json = args.eval / "eval.json"
            if not eval_json.is_file():
                raise FileNotFoundError(f"{eval_json} not found; run python -m imf.evaluate first")
            evaluation = json.loads(eval_json.read_text())
        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        shape = (cfg.model.channels, cfg.model.image_size, cfg.model.image_size)
        sampler = OneStepSampler(net).eval()
        onnx_path = out / "model.onnx"
        export_onnx(sampler, onnx_path, shape)
        parity = check_parity(sampler, onnx_path, shape, cfg.model.num_classes)
        onnx_sha = sha256(onnx_path)
        reference = {"model_version": onnx_sha[:16], "noise": NOISE_NAME,
                     "requests": reference_outputs(sampler, shape, cfg.model.num_classes)}
        (out / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")
        train_command = args.train_command or default_train_command(cfg, args.id)
        man = manifest(args.id, onnx_sha, cfg, step, args.omega, (args.t_min, args.t_max),
                       evaluation, parity, train_command)
        (out / "model.json").write_text(json.dumps(man, indent=2) + "\n")
        if args.eval:
            for name in ("samples.png", "omega-sweep.png", "guidance-tradeoff.png"):
                if (args.eval / name).is_file():
                    shutil.copyfile(args.eval / name, out / name)
            write_card(out / "MODEL_CARD.md", man)
        print(f"wrote {out}: model.onnx ({onnx_path.stat().st_size / 1e6:.1f} MB, sha256 "
              f"{onnx_sha[:16]}), parity {parity['batches']}", file=sys.stderr)
    except (ValueError, FileNotFoundError, RuntimeError, ckpt.CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
