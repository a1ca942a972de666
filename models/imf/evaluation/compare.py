"""Compare trained checkpoints at equal settings: 1-NFE and 2-NFE class accuracy, feature FID and
the pixel measures of each one's EMA weights (or, with `raw:` before the path, its raw training
weights), beside what real held-out images score, as a markdown table and JSON (the A/B tables of
the model cards).

    python -m imf.evaluation.compare --out runs/ab.json NAME=CHECKPOINT [NAME=raw:CHECKPOINT ...] \
        [--omega 3 --t-min 0 --t-max 1 --samples 2000]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from imf.training import checkpoint as ckpt
from imf.data.datasets import DataError
from imf.evaluation.evaluate import Scorer, generate, load_ema, load_raw
from imf.core.method import sample_mean_flow, sample_one_step
from imf.paths import user_path


def describe(cfg) -> str:
    m = cfg.model
    return (f"t,r ~ logit-normal({cfg.p_mean}, {cfg.p_std}), r = t share "
            f"{cfg.flow_matching_share}, endpoint share {cfg.endpoint_share}; "
            f"{m.shared_depth} shared + {m.head_depth}-block heads")


def compare(runs: dict[str, tuple[Path, bool]], omega: float, t_min: float, t_max: float,
            samples: int) -> tuple[list[dict], str, dict]:
    """One row per run (name -> (checkpoint, raw weights?)), the data set they were all trained
    on, and what real held-out images score."""
    rows, scorer, dataset = [], None, None
    for name, (path, raw) in runs.items():
        net, cfg, step = load_raw(path) if raw else load_ema(path)
        if scorer is None:
            scorer, dataset = Scorer(cfg), cfg.dataset
        elif cfg.dataset != dataset:
            raise ckpt.CheckpointError(f"{path} is trained on {cfg.dataset}, not {dataset}")
        one = lambda n, z, y: sample_one_step(n, z, y, omega, t_min, t_max)  # noqa: E731
        two = lambda n, z, y: sample_mean_flow(n, z, y, omega, t_min, t_max, 2)  # noqa: E731
        row = {"name": name, "step": step, "weights": "raw" if raw else "EMA",
               "recipe": describe(cfg),
               "one_step": scorer(*generate(one, net, samples)),
               "two_step": scorer(*generate(two, net, samples))}
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows, dataset, scorer.real


def table(rows: list[dict], real: dict | None = None) -> str:
    """The 1-NFE columns (the served sampler) with the pixel measures, then 2-NFE's headline."""
    lines = ["| variant | steps | recipe | weights | accuracy | FID | pixels = 0 | pixels 10–59 | histogram "
             "distance | pixel FD | pixel diversity | 2-NFE accuracy | 2-NFE FID |",
             "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def cells(o):  # results from before the pixel measures show "–" there
        def pix(name, fmt):
            return format(o[name], fmt) if name in o else "–"
        return (f"{100 * o['accuracy']:.1f}% | {o['fid']:.1f} | {pix('zero_fraction', '.3f')} | "
                f"{pix('haze_fraction', '.3f')} | {pix('histogram_distance', '.3f')} | "
                f"{pix('pixel_fd', '.1f')} | {pix('pixel_diversity', '.3f')}")
    if real:
        lines.append(f"| real held-out images | | | | {cells(real)} | | |")
    for r in rows:
        o, t = r["one_step"], r["two_step"]
        lines.append(f"| {r['name']} | {r['step']} | {r['recipe']} | {r.get('weights', 'EMA')} | "
                     f"{cells(o)} | "
                     f"{100 * t['accuracy']:.1f}% | {t['fid']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="NAME=CHECKPOINT")
    p.add_argument("--out", type=Path, required=True, help="where the JSON goes")
    p.add_argument("--omega", type=float, default=3.0)
    p.add_argument("--t-min", type=float, default=0.0)
    p.add_argument("--t-max", type=float, default=1.0)
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--note", default="", help="how the runs were made (goes into the model card)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    try:
        runs = {}
        for item in args.runs:
            name, sep, path = item.partition("=")
            if not sep:
                raise ValueError(f"expected NAME=CHECKPOINT, got {item!r}")
            raw = path.startswith("raw:")  # the raw training weights, not the EMA
            runs[name] = (user_path(path[4:] if raw else path), raw)
        torch.set_num_threads(args.threads)
        rows, dataset, real = compare(runs, args.omega, args.t_min, args.t_max, args.samples)
    except (ValueError, DataError, ckpt.CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = user_path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"dataset": dataset, "note": args.note,
              "guidance": {"omega": args.omega, "t_min": args.t_min, "t_max": args.t_max},
              "real": real, "rows": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows, real))
    return 0


if __name__ == "__main__":
    sys.exit(main())
