"""Evaluate a trained iMF checkpoint (its EMA weights) with the cached data-set classifier.

    npm run model:evaluate -- --id ID [--ab runs/ab.json] \
        [--baseline runs/mf-mnist/last.safetensors --baseline-imf runs/ID/step-003200.safetensors]

Without --omega it first chooses the served default guidance on an omega x interval grid (the
lowest FID whose class accuracy is at least --min-accuracy) and plots the trade-off.

Reports FID and class accuracy at 1-NFE and 2-NFE, the v-head Euler sampler at 1..32 steps, an
omega sweep (accuracy, diversity, FID), and the MF-objective baseline against the iMF model at the
same number of training steps. Writes eval.json, samples.png (10 classes x 10 seeds) and
omega-sweep.png (and guidance-tradeoff.png). Samples use the served noise generator: sample i has
seed i and class i mod the number of classes.

Each grid point is scored as it would be served: its 1-NFE pixels through the output levels fitted
at that point (core/levels.py; fitted on other seeds, against training images), with the network's
own pixels kept beside them ("raw"); the chosen point's levels go into eval.json for the export.
--no-levels scores and serves the network's pixels as they are."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

import torch
from torch import Tensor

from imf.training import checkpoint as ckpt
from imf.evaluation.classifier import cached_classifier, embed
from imf.core.config import TrainConfig
from imf.data.datasets import DataError, load, to_model_range
from imf.core.method import sample_mean_flow, sample_mf_baseline, sample_one_step, sample_v_euler
from imf.evaluation.metrics import class_accuracy, diversity, fid, gaussian_stats
from imf.core.network import ImfDiT
from imf.core.levels import FIT_SEED_BASE, apply_levels, channel_histograms, fit_levels
from imf.core.noise import batch_noise
from imf.evaluation.pixel_measures import PixelReference, no_pixel_measure_worse, pixel_rank, to_pixels
from imf.paths import run_dir, user_path

OMEGA_SWEEP = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
EULER_STEPS = [1, 2, 4, 8, 16, 32]
# The served default is chosen on this grid of guidance scales and intervals (1-NFE).
GRID_OMEGAS = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0]
GRID_INTERVALS = [(0.0, 1.0), (0.1, 0.9), (0.2, 0.8), (0.3, 0.7)]


def load_ema(path: Path) -> tuple[ImfDiT, TrainConfig, int]:
    """The checkpoint's bias-corrected EMA network (what gets shipped), its config and step."""
    state = ckpt.load(path)
    net = ImfDiT(state.config.model)
    net.load_state_dict(debiased_ema(state))
    return net.eval(), state.config, state.step


def load_raw(path: Path) -> tuple[ImfDiT, TrainConfig, int]:
    """The checkpoint's raw training weights (not the EMA), for the EMA A/B."""
    state = ckpt.load(path)
    net = ImfDiT(state.config.model)
    net.load_state_dict(state.model)
    return net.eval(), state.config, state.step


def debiased_ema(state: ckpt.TrainState) -> dict:
    """The EMA starts at the initial weights theta_0, so after t steps it still holds d^t of them
    (37% after 1,000 steps at d = 0.999; zero-initialised output layers make that a visible
    shrink of u). Remove that share as Adam does for its moments:
    (ema - d^t theta_0) / (1 - d^t), with theta_0 rebuilt from the run's seed exactly as
    train() built it. A run started from trained weights (init_from) has nothing to remove."""
    cfg = state.config
    share = cfg.ema_decay ** state.step
    if share < 1e-6 or cfg.init_from:
        return state.ema
    torch.manual_seed(cfg.seed)
    init = ImfDiT(cfg.model).state_dict()
    return {k: (v - share * init[k]) / (1.0 - share) if v.is_floating_point() else v
            for k, v in state.ema.items()}


@torch.no_grad()
def generate(sample_fn, net: ImfDiT, n: int, chunk: int = 500,
             first_seed: int = 0) -> tuple[Tensor, Tensor]:
    """n images with seeds first_seed.. and classes seed mod num_classes."""
    shape = (net.cfg.channels, net.cfg.image_size, net.cfg.image_size)
    images, labels = [], []
    for start in range(first_seed, first_seed + n, chunk):
        seeds = list(range(start, min(first_seed + n, start + chunk)))
        y = torch.tensor([s % net.cfg.num_classes for s in seeds])
        images.append(sample_fn(net, batch_noise(seeds, shape), y).clamp(-1, 1))
        labels.append(y)
    return torch.cat(images), torch.cat(labels)


REFERENCE_IMAGES = 10000  # training images the references are fitted on


class Scorer:
    """Classifier-feature FID, class accuracy and diversity, and the pixel measures, all against
    the run's training images. `real` holds what the held-out real images score on every one of
    them: the value a perfect model would reach, shown beside the model's."""

    def __init__(self, cfg: TrainConfig):
        self.classifier, self.classifier_accuracy = cached_classifier(cfg)
        train = load(cfg.dataset, "train", cfg)
        pick = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(0))
        pick = pick[:REFERENCE_IMAGES].numpy()
        train_images = to_model_range(train.images[pick])
        _, feats = embed(self.classifier, train_images)
        self.reference = gaussian_stats(feats)
        train_pixels = to_pixels(train_images)
        self.pixels = PixelReference(train_pixels)
        self.train_histograms = channel_histograms(train_pixels)
        test = load(cfg.dataset, "test", cfg)
        self.real = self(to_model_range(test.images), torch.from_numpy(test.labels))

    def __call__(self, images: Tensor, labels: Tensor, levels=None) -> dict:
        """The measures of images in [-1, 1]; with `levels`, of their 8-bit pixels through those
        output levels, as a graph with them serves the images."""
        if levels is not None:
            images = served_images(images, levels)
        logits, feats = embed(self.classifier, images)
        return {"fid": round(fid(feats, self.reference), 3),
                "accuracy": round(class_accuracy(logits, labels), 4),
                "diversity": round(diversity(feats, labels), 4),
                **self.pixels.measure(to_pixels(images), labels.numpy()),
                "samples": len(labels)}


def served_images(images: Tensor, levels) -> Tensor:
    """Images in [-1, 1] as served with output levels: their 8-bit pixels through the curves, back
    in [-1, 1] (every 8-bit value is exact there)."""
    return torch.from_numpy(apply_levels(to_pixels(images), levels)).float() / 127.5 - 1.0


def served_levels(sample_fn, net: ImfDiT, scorer: "Scorer", samples: int):
    """The output levels [C, 256] for a sampler: fitted on `samples` images whose seeds start at
    FIT_SEED_BASE (none of the scored ones), against the training images' histograms."""
    images, _ = generate(sample_fn, net, samples, first_seed=FIT_SEED_BASE)
    return fit_levels(to_pixels(images), scorer.train_histograms)


def save_grid(path: Path, images: Tensor, rows: int, cols: int, scale: int = 2) -> None:
    """Rows are classes, columns seeds; a 2-pixel gutter between cells."""
    from PIL import Image

    c, h, w = images.shape[1:]
    pad = 2
    grid = torch.full((c, rows * (h + pad) + pad, cols * (w + pad) + pad), 0.2)  # grey gutters
    for i in range(rows * cols):
        r, k = divmod(i, cols)
        grid[:, pad + r * (h + pad):pad + r * (h + pad) + h,
             pad + k * (w + pad):pad + k * (w + pad) + w] = images[i]
    pixels = ((grid.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    img = Image.fromarray(pixels[..., 0], mode="L") if c == 1 else Image.fromarray(pixels, mode="RGB")
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(path)


def save_sweep_plot(path: Path, sweep: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    omegas = [s["omega"] for s in sweep]
    fig, ax1 = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax1.plot(omegas, [100 * s["accuracy"] for s in sweep], "o-", color="tab:blue")
    ax1.set_xlabel("guidance scale omega (1-NFE)")
    ax1.set_ylabel("class accuracy (%)", color="tab:blue")
    ax2 = ax1.twinx()
    ax2.plot(omegas, [s["diversity"] for s in sweep], "s--", color="tab:red")
    ax2.set_ylabel("within-class diversity", color="tab:red")
    ax1.set_title("omega sweep: fidelity rises, diversity falls")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def guidance_grid(net: ImfDiT, scorer: "Scorer", samples: int, note,
                  with_levels: bool = True) -> tuple[list[dict], list]:
    """1-NFE quality over GRID_OMEGAS x GRID_INTERVALS, every point on the same seeds, and each
    point's output levels (None without them). A row's measures are of the served pixels; its
    "raw" ones, of the network's pixels before the levels."""
    rows, levels = [], []
    for lo, hi in GRID_INTERVALS:
        for w in GRID_OMEGAS:
            fn = lambda n, z, y, w=w, lo=lo, hi=hi: sample_one_step(n, z, y, w, lo, hi)  # noqa: E731
            images, labels = generate(fn, net, samples)
            row = {"omega": w, "t_min": lo, "t_max": hi}
            curve = served_levels(fn, net, scorer, samples // 2) if with_levels else None
            row.update(scorer(images, labels, curve))
            if with_levels:
                row["raw"] = scorer(images, labels)
            rows.append(row)
            levels.append(curve)
            note(f"guidance grid {row}")
    return rows, levels


DEFAULT_RULE = ("among the grid points with class accuracy >= min_accuracy (the most accurate "
                "if none), the anchor is the one closest to the real pixels (best mean rank over "
                "the pixel measures' distances to the real images' values); the default is the "
                "lowest feature FID among the points on which no pixel measure is further from "
                "the real value than at the anchor (2% slack)")


def choose_default(grid: list[dict], min_accuracy: float, real: dict) -> dict:
    """The served default (DEFAULT_RULE): no pixel measure may get worse to buy a better feature
    FID. The anchor is the accurate point closest to the real pixels; a point with a lower
    feature FID replaces it only if none of its pixel measures is worse."""
    good = [r for r in grid if r["accuracy"] >= min_accuracy]
    if not good:
        best = max(r["accuracy"] for r in grid)
        good = [r for r in grid if r["accuracy"] == best]
    anchor = min(good, key=lambda r: (pixel_rank(r, good, real), r["pixel_fd"], r["fid"]))
    allowed = [r for r in good if no_pixel_measure_worse(r, anchor, real)]
    return min(allowed, key=lambda r: (r["fid"], -r["accuracy"]))


def save_tradeoff_plot(path: Path, grid: list[dict], chosen: dict, min_accuracy: float) -> None:
    """FID and class accuracy against omega, one line per guidance interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 3.6), dpi=120)
    for lo, hi in GRID_INTERVALS:
        rows = [r for r in grid if (r["t_min"], r["t_max"]) == (lo, hi)]
        label = f"[{lo:g}, {hi:g}]"
        ax1.plot([r["omega"] for r in rows], [r["fid"] for r in rows], "o-", label=label)
        ax2.plot([r["omega"] for r in rows], [100 * r["accuracy"] for r in rows], "o-", label=label)
        ax3.plot([r["omega"] for r in rows], [r["pixel_fd"] for r in rows], "o-", label=label)
    ax1.plot([chosen["omega"]], [chosen["fid"]], "k*", markersize=14, label="served default")
    ax2.plot([chosen["omega"]], [100 * chosen["accuracy"]], "k*", markersize=14)
    ax3.plot([chosen["omega"]], [chosen["pixel_fd"]], "k*", markersize=14)
    ax3.set(xlabel="guidance scale omega (1-NFE)", ylabel="pixel FD (untrained pixel space)",
            title="fidelity of the pixels (haze shows here)")
    ax2.axhline(100 * min_accuracy, color="grey", linestyle=":", label="accuracy floor")
    ax1.set(xlabel="guidance scale omega (1-NFE)", ylabel="FID (classifier features)",
            title="fidelity to the data")
    ax2.set(xlabel="guidance scale omega (1-NFE)", ylabel="class accuracy (%)",
            title="recognisable as the class")
    ax1.legend(title="interval", fontsize=7)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def evaluate(checkpoint: Path, out: Path, omega: float | None, t_min: float, t_max: float,
             samples: int, sweep_samples: int, baseline: Path | None,
             baseline_imf: Path | None, min_accuracy: float = 0.99, data_dir: Path | None = None,
             ab: dict | None = None, command: str = "", log=sys.stderr,
             with_levels: bool = True) -> dict:
    """omega None: choose the default guidance (scale and interval) on the grid first. ab: an
    imf.compare result carried into the report (the card's A/B table); command: the command
    that reproduces this evaluation, for the card. with_levels: fit output levels at the default
    and score the served 1-NFE pixels through them."""
    t0 = time.time()
    net, cfg, step = load_ema(checkpoint)
    if data_dir is not None:  # a folder run evaluated where its folder now lives
        cfg = dataclasses.replace(cfg, data_dir=str(data_dir))
    scorer = Scorer(cfg)

    def note(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", file=log, flush=True)

    report = {"checkpoint": str(checkpoint), "step": step, "objective": cfg.objective,
              "dataset": cfg.dataset, "classifier_test_accuracy": round(scorer.classifier_accuracy, 4),
              "real": scorer.real}
    if command:
        report["command"] = command
    levels, on_grid = None, omega is None
    if on_grid:
        # the grid uses the headline's samples (same seeds), so the chosen point's headline
        # numbers are the grid's and the accuracy floor holds for what the card reports
        grid, grid_levels = guidance_grid(net, scorer, samples, note, with_levels)
        chosen = choose_default(grid, min_accuracy, scorer.real)
        omega, t_min, t_max = chosen["omega"], chosen["t_min"], chosen["t_max"]
        levels = grid_levels[grid.index(chosen)]
        report["guidance_grid"] = grid
        report["default_rule"] = {"min_accuracy": min_accuracy, "rule": DEFAULT_RULE}
        out.mkdir(parents=True, exist_ok=True)
        save_tradeoff_plot(out / "guidance-tradeoff.png", grid, chosen, min_accuracy)
        note(f"default guidance: omega {omega} on [{t_min}, {t_max}]")
    report["guidance"] = {"omega": omega, "t_min": t_min, "t_max": t_max}
    one = lambda n, z, y: sample_one_step(n, z, y, omega, t_min, t_max)  # noqa: E731
    two = lambda n, z, y: sample_mean_flow(n, z, y, omega, t_min, t_max, 2)  # noqa: E731
    if not on_grid and with_levels:
        levels = served_levels(one, net, scorer, samples // 2)
    if levels is not None:
        report["levels"] = {"curves": levels.tolist(), "fitted_at": dict(report["guidance"]),
                            "samples": samples // 2, "first_seed": FIT_SEED_BASE}
    images, labels = generate(one, net, samples)
    report["one_step"] = scorer(images, labels, levels)
    if levels is not None:
        report["one_step_raw"] = scorer(images, labels)
    note(f"1-NFE {report['one_step']}")
    report["two_step"] = scorer(*generate(two, net, samples))
    note(f"2-NFE {report['two_step']}")

    report["v_head_euler"] = []
    for steps in EULER_STEPS:
        fn = lambda n, z, y, k=steps: sample_v_euler(n, z, y, omega, t_min, t_max, k)  # noqa: E731
        row = {"steps": steps, **scorer(*generate(fn, net, sweep_samples))}
        report["v_head_euler"].append(row)
        note(f"v-head Euler {row}")

    report["omega_sweep"] = []
    for w in OMEGA_SWEEP:
        fn = lambda n, z, y, w=w: sample_one_step(n, z, y, w, t_min, t_max)  # noqa: E731
        row = {"omega": w, **scorer(*generate(fn, net, sweep_samples), levels)}
        report["omega_sweep"].append(row)
        note(f"omega sweep {row}")

    if baseline:
        mf_net, mf_cfg, mf_step = load_ema(baseline)
        if mf_cfg.objective != "mf":
            raise ckpt.CheckpointError(f"--baseline {baseline} is not an MF-objective checkpoint")
        row = {"step": mf_step, "omega": mf_cfg.mf_omega}
        for k in (1, 2):
            fn = lambda n, z, y, k=k: sample_mf_baseline(n, z, y, mf_cfg, k)  # noqa: E731
            row[f"mf_{k}nfe"] = scorer(*generate(fn, mf_net, samples))
        if baseline_imf:
            imf_net, _, imf_step = load_ema(baseline_imf)
            if imf_step != mf_step:
                raise ckpt.CheckpointError(f"baseline at step {mf_step} but the iMF checkpoint "
                                           f"to compare is at step {imf_step}")
            for k in (1, 2):
                fn = lambda n, z, y, k=k: sample_mean_flow(n, z, y, mf_cfg.mf_omega, 0.0, 1.0, k)  # noqa: E731
                row[f"imf_{k}nfe"] = scorer(*generate(fn, imf_net, samples))
        report["mf_baseline"] = row
        note(f"MF baseline {row}")

    if ab:
        report["ab"] = ab
    out.mkdir(parents=True, exist_ok=True)
    grid_fn = lambda n, z, y: sample_one_step(n, z, y, omega, t_min, t_max)  # noqa: E731
    shape = (cfg.model.channels, cfg.model.image_size, cfg.model.image_size)
    classes = min(cfg.model.num_classes, 20)
    seeds = list(range(10))
    with torch.no_grad():
        z = torch.cat([batch_noise(seeds, shape) for _ in range(classes)])
        y = torch.arange(classes).repeat_interleave(len(seeds))
        shown = grid_fn(net, z, y).clamp(-1, 1)
        save_grid(out / "samples.png", shown if levels is None else served_images(shown, levels),
                  classes, len(seeds))
    save_sweep_plot(out / "omega-sweep.png", report["omega_sweep"])
    report["seconds"] = round(time.time() - t0, 1)
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    note(f"wrote {out / 'eval.json'}, samples.png, omega-sweep.png")
    return report


def reproducing_command(args, argv: list[str] | None) -> str:
    """The npm command that repeats this evaluation, with paths as the user gave them."""
    given = list(sys.argv[1:] if argv is None else argv)
    if "--id" not in given:
        given = ["--id", args.id, *given]
    return "npm run model:evaluate -- " + " ".join(shlex.quote(a) for a in given)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--id", default="imf-mnist", help="the model id: reads runs/<id>/")
    p.add_argument("--checkpoint", type=Path, help="default runs/<id>/last.safetensors")
    p.add_argument("--out", type=Path, help="default runs/<id>/eval")
    p.add_argument("--omega", type=float,
                   help="the guidance scale to report at; without it the default guidance (scale "
                        "and interval) is chosen on a grid: lowest FID at --min-accuracy")
    p.add_argument("--t-min", type=float, default=0.0)
    p.add_argument("--t-max", type=float, default=1.0)
    p.add_argument("--min-accuracy", type=float, default=0.99,
                   help="the class-accuracy floor for choosing the default guidance")
    p.add_argument("--data", type=Path, help="a folder run's image folder, if it has moved")
    p.add_argument("--samples", type=int, default=2000, help="samples for the headline numbers")
    p.add_argument("--sweep-samples", type=int, default=1000, help="samples per sweep point")
    p.add_argument("--baseline", type=Path, help="an MF-objective checkpoint to compare")
    p.add_argument("--baseline-imf", type=Path,
                   help="the iMF checkpoint at the baseline's step (a kept snapshot)")
    p.add_argument("--ab", type=Path,
                   help="an imf.compare result (JSON) to carry into the report and the model card")
    p.add_argument("--no-levels", action="store_true",
                   help="no output levels: score and serve the network's 8-bit pixels as they are")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    try:
        if args.omega is not None and args.omega < 1:
            raise ValueError(f"--omega must be >= 1, got {args.omega}")
        if not 0 <= args.t_min < args.t_max <= 1:
            raise ValueError(f"need 0 <= t_min < t_max <= 1, got [{args.t_min}, {args.t_max}]")
        if args.samples < 100 or args.sweep_samples < 100:
            raise ValueError("--samples and --sweep-samples must be at least 100 (FID needs them)")
        torch.set_num_threads(args.threads)
        checkpoint = user_path(args.checkpoint) if args.checkpoint else run_dir(args.id) / "last.safetensors"
        out = user_path(args.out) if args.out else run_dir(args.id) / "eval"
        ab = None
        if args.ab:
            ab_path = user_path(args.ab)
            if not ab_path.is_file():
                raise ValueError(f"--ab {ab_path}: no such file (write it with python -m imf.evaluation.compare)")
            ab = json.loads(ab_path.read_text())
        evaluate(checkpoint, out, args.omega, args.t_min,
                 args.t_max, args.samples, args.sweep_samples,
                 args.baseline and user_path(args.baseline),
                 args.baseline_imf and user_path(args.baseline_imf), args.min_accuracy,
                 args.data and user_path(args.data), ab, reproducing_command(args, argv),
                 with_levels=not args.no_levels)
    except (ValueError, DataError, ckpt.CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
