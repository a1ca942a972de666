"""Export a trained checkpoint (EMA weights) as a shipped model folder models/<id>/:
model.onnx (the whole one-step sampler, noise to 8-bit pixels), model.json (the manifest the
worker validates), reference.json (requests with the pixels the PyTorch graph gives them), and,
from an evaluation folder, samples.png, omega-sweep.png and the numbers for MODEL_CARD.md.
The graph, parity checks, reference pixels, hashing and manifest are the import's too (graphs.py,
checks.py, manifest.py).

    npm run model:export -- --id ID    # runs/ID/last.safetensors + runs/ID/eval -> models/ID/

The default guidance is the one the evaluation chose (--omega/--t-min/--t-max override it), and the
graph ends with the output levels the evaluation fitted there (eval.json "levels", core/levels.py),
if it fitted any."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from imf.training import checkpoint as ckpt
from imf.data.datasets import class_names
from imf.paths import REPO_ROOT
from imf.evaluation.evaluate import load_ema
from imf.paths import MODELS_DIR, run_dir, user_path
from imf.export import checks
from imf.export import onnx_io
from imf.export.graphs import INPUTS, OUTPUTS, TO_PIXELS, WITH_LEVELS, PixelSampler, served_parameters
from imf.export.manifest import build_manifest
from imf.export.model_card import write_card

PARITY_BATCHES = (1, 7, 64)


def export_model(net, cfg, step: int, out: Path, model_id: str, omega: float, interval,
                 evaluation: dict, train_command: str) -> dict:
    """Writes model.onnx, reference.json and model.json into `out`; returns the manifest. The
    graph ends with the evaluation's output levels when it has them."""
    m = cfg.model
    shape = (m.channels, m.image_size, m.image_size)
    curves = evaluation.get("levels", {}).get("curves")
    levels = None if curves is None else np.asarray(curves, dtype=np.uint8)
    if levels is not None and levels.shape != (m.channels, 256):
        raise ValueError(f"the evaluation's levels have shape {levels.shape}, the model has "
                         f"{m.channels} channels")
    sampler = PixelSampler(net, levels=levels).eval()
    gen = torch.Generator().manual_seed(1)
    example = checks.random_requests(2, shape, m.num_classes, 1.0 + cfg.s_max, gen)
    files = onnx_io.export_graph(sampler, tuple(example.values()), out, "model.onnx", INPUTS,
                                 OUTPUTS, external_data=False)
    session = onnx_io.session(out / "model.onnx", threads=1)
    defaults = {"guidance": omega, "interval": list(interval),
                "guidance_max": round(1.0 + cfg.s_max, 6)}
    parity = checks.parity(sampler, session, shape, m.num_classes, defaults["guidance_max"],
                           PARITY_BATCHES)
    requests = [checks.resolve_request(r, defaults, m.num_classes)
                for r in checks.REFERENCE_REQUESTS]
    reference, reference_parity, _ = checks.reference(sampler, session, requests, shape)
    man = build_manifest(
        model_id=model_id, folder=out, files=files, noise_shape=list(shape),
        channels=m.channels, height=m.image_size, width=m.image_size,
        image_meaning="x = z - u(z, h = 1, omega, t_min, t_max, class)",
        classes=class_names(cfg), null_class=m.null_class,
        guidance={"min": 1.0, "max": defaults["guidance_max"], "default": omega},
        interval=interval, nfe=1,
        method="improved MeanFlow (arXiv 2512.02012), one network evaluation",
        pixels=TO_PIXELS if levels is None else WITH_LEVELS,
        parameters=served_parameters(sampler),
        reference="reference.json",
        parity={**parity, "reference": reference_parity},
        training={"command": train_command, "steps": step, "config": cfg.to_dict()},
        evaluation=evaluation,
    )
    checks.write_reference(out / "reference.json", reference, man["version"])
    (out / "model.json").write_text(json.dumps(man, indent=2) + "\n")
    return man


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
                raise FileNotFoundError(f"{eval_json} not found; run python -m imf.evaluation.evaluate first")
            evaluation = json.loads(eval_json.read_text())
        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        train_command = args.train_command or default_train_command(cfg, args.id)
        man = export_model(net, cfg, step, out, args.id, args.omega, (args.t_min, args.t_max),
                           evaluation, train_command)
        if args.eval:
            for name in ("samples.png", "omega-sweep.png", "guidance-tradeoff.png"):
                if (args.eval / name).is_file():
                    shutil.copyfile(args.eval / name, out / name)
            write_card(out / "MODEL_CARD.md", man)
        size = (out / man["graph"]).stat().st_size
        print(f"wrote {out}: {man['graph']} ({size / 1e6:.1f} MB, version {man['version']}), "
              f"parity {man['parity']['batches']}", file=sys.stderr)
    except (ValueError, FileNotFoundError, RuntimeError, ckpt.CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
