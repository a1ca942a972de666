"""MODEL_CARD.md for a shipped model, written from its manifest so the card's numbers are the
evaluator's numbers, never retyped."""

from __future__ import annotations

from pathlib import Path

from imf.evaluation.compare import table as ab_table
from imf.export.imported_card import imported_lines

DATA_SETS = {"mnist": "MNIST handwritten digits", "fashion-mnist": "Fashion-MNIST"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def describe_data(cfg: dict, num_classes: int) -> str:
    if cfg["dataset"] == "folder":
        return (f"the image folder `{Path(cfg['data_dir']).name}` ({num_classes} classes, one "
                "sub-folder per class)")
    return DATA_SETS.get(cfg["dataset"], cfg["dataset"])


def _header(man: dict) -> list[str]:
    cfg = man["training"]["config"]
    m = cfg["model"]
    g = man["guidance"]
    classes = man["classes"]
    colour = "grayscale" if m["channels"] == 1 else "RGB"
    endpoint = cfg.get("endpoint_share", 0.0)
    sampling = (f"t, r ~ logit-normal({cfg['p_mean']}, {cfg['p_std']}), r = t for a share "
                f"{cfg['flow_matching_share']}")
    if endpoint:
        sampling += f", and a share {endpoint} of each batch at the 1-NFE point (t, r) = (1, 0)"
    rows = min(len(classes), 20)
    return [
        f"# {man['id']} — model card",
        "",
        f"A class-conditional **improved MeanFlow** generator trained from scratch in this "
        f"repository on {describe_data(cfg, len(classes))}, {m['image_size']}×{m['image_size']} "
        f"{colour}. One network evaluation turns seeded Gaussian noise into an image; the "
        "guidance scale ω and the guidance interval [t_min, t_max] are inputs.",
        "",
        f"- version `{man['version']}` (sha256 of `{man['graph']}`: `{man['content_sha256']}`)",
        f"- classes (index: name): {', '.join(f'{i}: {c}' for i, c in enumerate(classes))}; "
        f"null (unconditional) class index {man['null_class']}",
        f"- served default guidance: ω = {g['default']} on the interval "
        f"{man['interval']['default']}; ω may be asked for in [{g['min']}, {g['max']}]",
        f"- noise: `{man['noise']['generator']}` (seed → N(0,1), see {man['noise']['spec']})",
        f"- network: imfDiT, hidden {m['hidden_size']}, {m['num_heads']} heads, "
        f"{m['shared_depth']} shared + {m['head_depth']} u-head + {m['head_depth']} v-head blocks, "
        f"patch {m['patch_size']}, conditioning tokens class {m['class_tokens']} / ω "
        f"{m['omega_tokens']} / t_min {m['t_min_tokens']} / t_max {m['t_max_tokens']} / h "
        f"{m['time_tokens']}",
        f"- training: {man['training']['steps']} steps × batch {cfg['batch_size']}"
        f"{' from the EMA weights of an earlier run (the commands under Reproduce)' if cfg.get('init_from') else ''}, AdamW lr "
        f"{cfg['lr']}, EMA {cfg['ema_decay']}, seed {cfg['seed']}, class dropout "
        f"{cfg['class_dropout']}; time sampling {sampling}",
        "",
        f"![samples at the served default: rows are classes 0–{rows - 1} in index order, columns "
        "seeds 0–9](samples.png)",
        "",
    ]


def _guidance_grid(ev: dict) -> list[str]:
    grid = ev.get("guidance_grid")
    if not grid:
        return []
    gd, rule = ev["guidance"], ev["default_rule"]
    omegas = sorted({r["omega"] for r in grid})
    intervals = sorted({(r["t_min"], r["t_max"]) for r in grid})
    cells = {(r["omega"], r["t_min"], r["t_max"]): r for r in grid}
    lines = [
        "## The default guidance, chosen by measurement",
        "",
        f"Every ω × interval point below was sampled at 1-NFE on the same seeds "
        f"({grid[0]['samples']} images each). How the served default is chosen: {rule['rule']} "
        f"(floor {_pct(rule['min_accuracy'])}): **ω = {gd['omega']} on [{gd['t_min']}, "
        f"{gd['t_max']}]**. Each cell is FID / class accuracy.",
        "",
        "| interval | " + " | ".join(f"ω {w:g}" for w in omegas) + " |",
        "| --- |" + " ---: |" * len(omegas),
    ]
    for lo, hi in intervals:
        row = []
        for w in omegas:
            r = cells.get((w, lo, hi))
            text = f"{r['fid']:.1f} / {_pct(r['accuracy'])}" if r else "–"
            chosen = (w, lo, hi) == (gd["omega"], gd["t_min"], gd["t_max"])
            row.append(f"**{text}**" if chosen else text)
        lines.append(f"| [{lo:g}, {hi:g}] | " + " | ".join(row) + " |")
    if "pixel_fd" in grid[0]:
        served = ("each point's served pixels, through the output levels fitted at that point"
                  if "raw" in grid[0] else "each point's pixels")
        lines += ["", "The same points on their pixels (the background measures the rule guards; "
                  f"{served}): share of pixels exactly 0 / share in 10–59 / pixel FD.", "",
                  "| interval | " + " | ".join(f"ω {w:g}" for w in omegas) + " |",
                  "| --- |" + " ---: |" * len(omegas)]
        for lo, hi in intervals:
            row = []
            for w in omegas:
                r = cells.get((w, lo, hi))
                text = (f"{r['zero_fraction']:.3f} / {r['haze_fraction']:.3f} / {r['pixel_fd']:.1f}"
                        if r else "–")
                chosen = (w, lo, hi) == (gd["omega"], gd["t_min"], gd["t_max"])
                row.append(f"**{text}**" if chosen else text)
            lines.append(f"| [{lo:g}, {hi:g}] | " + " | ".join(row) + " |")
        real = ev.get("real")
        if real:
            lines += ["", f"Real held-out images: {real['zero_fraction']:.3f} / "
                      f"{real['haze_fraction']:.3f} / {real['pixel_fd']:.1f}."]
    if gd["omega"] in (omegas[0], omegas[-1]) and len(omegas) > 1:
        lines += ["", f"The chosen ω = {gd['omega']:g} is at the edge of the grid "
                  f"({omegas[0]:g}–{omegas[-1]:g}): the best point may lie beyond it."]
    lines += ["", "![feature FID, class accuracy and pixel FD against ω, one line per interval; the star is the "
              "served default](guidance-tradeoff.png)", ""]
    return lines


def _evaluation(ev: dict, num_classes: int) -> list[str]:
    o, t = ev["one_step"], ev["two_step"]
    gd = ev["guidance"]
    lines = [
        "## Evaluation at the served default",
        "",
        f"Measured by `python -m imf.evaluation.evaluate` with the repository's classifier for this data "
        f"(test accuracy {_pct(ev['classifier_test_accuracy'])} on real held-out images); FID is "
        "computed on its 128-d penultimate features against the held-out split (so it is not "
        f"comparable with Inception FID). Guidance ω = {gd['omega']}, interval [{gd['t_min']}, "
        f"{gd['t_max']}]; sample i uses seed i and class i mod {num_classes}.",
        "",
        "| sampler | NFE | samples | class accuracy | FID | diversity |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| u head, one step | 1 | {o['samples']} | **{_pct(o['accuracy'])}** | **{o['fid']}** | {o['diversity']} |",
        f"| u head, two steps | 2 | {t['samples']} | {_pct(t['accuracy'])} | {t['fid']} | {t['diversity']} |",
    ]
    for row in ev["v_head_euler"]:
        lines.append(f"| v head, Euler | {row['steps']} | {row['samples']} | "
                     f"{_pct(row['accuracy'])} | {row['fid']} | {row['diversity']} |")
    lines += _pixel_measures(ev)
    lines += ["", f"### Guidance sweep (1-NFE, interval [{gd['t_min']}, {gd['t_max']}])", "",
              "| ω | class accuracy | diversity | FID |", "| --- | --- | --- | --- |"]
    for row in ev["omega_sweep"]:
        lines.append(f"| {row['omega']} | {_pct(row['accuracy'])} | {row['diversity']} | {row['fid']} |")
    lines += ["", "![omega sweep](omega-sweep.png)", ""]
    return lines


PIXEL_ROWS = [
    ("class accuracy", "accuracy", lambda v: _pct(v)),
    ("FID (classifier features)", "fid", lambda v: f"{v:.1f}"),
    ("diversity (classifier features)", "diversity", lambda v: f"{v:.3f}"),
    ("pixels exactly 0", "zero_fraction", lambda v: f"{v:.3f}"),
    ("pixels in 10–59", "haze_fraction", lambda v: f"{v:.3f}"),
    ("mean pixel value", "pixel_mean", lambda v: f"{v:.1f}"),
    ("intensity histogram distance (total variation)", "histogram_distance", lambda v: f"{v:.3f}"),
    ("pixel FD (Fréchet distance on the pixels)", "pixel_fd", lambda v: f"{v:.1f}"),
    ("pixel diversity (same class, per pixel)", "pixel_diversity", lambda v: f"{v:.3f}"),
]


def _pixel_measures(ev: dict) -> list[str]:
    """Every measure at the served default beside what real held-out images score (and, for a
    model with output levels, what the network's own pixels score before them)."""
    real, o, raw = ev.get("real"), ev["one_step"], ev.get("one_step_raw")
    if not real or "pixel_fd" not in o:
        return []
    lines = ["", "### Every measure beside the real images' value", "",
             "Against the training images; the real column is the held-out images measured the "
             "same way (what a perfect model would score). The pixel measures look at the served "
             "8-bit pixels themselves, so background haze that the classifier ignores shows here.",
             ""]
    if raw:
        lines += ["| measure | served, 1-NFE at the default | the network's pixels before the "
                  "output levels | real held-out images |", "| --- | ---: | ---: | ---: |"]
        for label, key, fmt in PIXEL_ROWS:
            lines.append(f"| {label} | {fmt(o[key])} | {fmt(raw[key])} | {fmt(real[key])} |")
        return lines
    lines += ["| measure | model, 1-NFE at the default | real held-out images |",
              "| --- | ---: | ---: |"]
    for label, key, fmt in PIXEL_ROWS:
        lines.append(f"| {label} | {fmt(o[key])} | {fmt(real[key])} |")
    return lines


def _levels(ev: dict) -> list[str]:
    """What the output levels are, where they were fitted and what they do to the pixels."""
    lv = ev.get("levels")
    if not lv:
        return []
    at = lv["fitted_at"]
    curves = lv["curves"]
    black = [next((v for v, out in enumerate(c) if out > 0), 256) for c in curves]
    names = ["red", "green", "blue"] if len(curves) == 3 else [f"channel {i}" for i in range(len(curves))]
    if len(curves) == 1:
        where = f"levels 0–{black[0] - 1} become 0"
    else:
        where = "levels " + ", ".join(f"0–{b - 1} ({n})" for n, b in zip(names, black)) + " become 0"
    return [
        "## Output levels",
        "",
        "The graph ends with a per-channel tone curve on its 8-bit pixels (models/imf/core/"
        "levels.py): histogram matching of the 1-NFE output onto the training images. The "
        "network's estimate of a black background pixel scatters on both sides of black; the "
        "rounding clips the half below to 0 and leaves the half above as grey speckle. The curve "
        "sends each generated level to the real level at the same quantile, so that speckle "
        "becomes black and the rest keeps its order (the curve is monotone).",
        "",
        f"Fitted at ω = {at['omega']} on [{at['t_min']}, {at['t_max']}] on {lv['samples']} samples "
        f"with seeds from {lv['first_seed']} (none of the evaluated ones); {where}. Requests at "
        "other guidance scales go through the same curve. `npm run model:evaluate -- --no-levels` "
        "evaluates and exports without it; the table below shows the network's pixels before the "
        "curve beside the served ones.",
        "",
    ]


def _ab(ev: dict, man: dict) -> list[str]:
    ab = ev.get("ab")
    if not ab:
        return []
    g = ab["guidance"]
    best = min(ab["rows"], key=lambda r: r["one_step"]["fid"])
    own = ab.get("dataset") == man["training"]["config"]["dataset"]
    lines = [
        "## The A/B behind the recipe",
        "",
        "1-NFE sampling asks the network for u at exactly t = 1, h = t − r = 1. The official "
        "sampler (t and r from two logit-normal(−0.4, 1) draws) almost never trains there "
        "(P(h > 0.9) ≈ 1e-5); the endpoint variant puts a share of each batch at (t, r) = (1, 0). "
        f"{ab.get('note', '')}".rstrip(),
        "",
    ]
    if not own:
        lines += [f"This A/B was run on {DATA_SETS.get(ab.get('dataset'), ab.get('dataset'))}, "
                  "not on this model's data; this model's recipe follows it.", ""]
    lines += [
        f"Every row at ω = {g['omega']} on [{g['t_min']}, {g['t_max']}], "
        f"{best['one_step']['samples']} samples per cell, same seeds:",
        "",
        ab_table(ab["rows"], ab.get("real")),
        "",
        f"Lowest 1-NFE FID: **{best['name']}**." + _closest_pixels(ab["rows"]) + " Either sampler is a training option: "
        "`--set endpoint_share=0` is the official one, `--set endpoint_share=0.1` the endpoint "
        "variant.",
        "",
    ]
    return lines


def _closest_pixels(rows: list[dict]) -> str:
    scored = [r for r in rows if "pixel_fd" in r["one_step"]]
    if not scored:
        return ""
    best = min(scored, key=lambda r: r["one_step"]["pixel_fd"])
    return f" Lowest 1-NFE pixel FD: **{best['name']}**."


def _mf_baseline(ev: dict) -> list[str]:
    mf = ev.get("mf_baseline")
    if not mf:
        return []
    lines = [
        "## Ablation: iMF against the original MeanFlow objective",
        "",
        f"Both trained with the same recipe and network for {mf['step']} steps; the MF "
        f"baseline bakes ω = {mf['omega']} in at training, the iMF model is sampled at "
        "the same ω.",
        "",
        "| objective | NFE | class accuracy | FID |",
        "| --- | --- | --- | --- |",
    ]
    for k in (1, 2):
        if f"imf_{k}nfe" in mf:
            r = mf[f"imf_{k}nfe"]
            lines.append(f"| iMF | {k} | {_pct(r['accuracy'])} | {r['fid']} |")
        r = mf[f"mf_{k}nfe"]
        lines.append(f"| MF baseline | {k} | {_pct(r['accuracy'])} | {r['fid']} |")
    lines.append("")
    return lines


def parity_text(par: dict) -> str:
    """The parity check in one sentence: 8-bit pixels of onnxruntime against PyTorch's."""
    tol = par["tolerance"]
    return ("onnxruntime against PyTorch on random requests, 8-bit values off by one (none may be "
            f"off by more than {tol['max']}; at most {tol['share']:.1%} off by one): "
            + ", ".join(f"batch {b}: {d['differing']} of {d['values']}"
                        for b, d in par["batches"].items()) + ".")


def _export(man: dict) -> list[str]:
    n, c, h, w = man["inputs"][0]["shape"]
    _, ih, iw, ic = man["outputs"][0]["shape"]
    return [
        "## Export",
        "",
        f"`{man['graph']}` is the whole one-step sampler and its pixel rounding: inputs "
        f"`noise [B,{c},{h},{w}]`, `class int64 [B]`, `guidance [B]`, `t_min [B]`, `t_max [B]`; "
        f"output `image uint8 [B,{ih},{iw},{ic}]` (HWC), "
        f"{man['outputs'][0]['meaning'].removeprefix('8-bit pixels, ')}; dynamic batch; the v head is "
        "left out. " + parity_text(man["parity"]),
        "",
        "`reference.json` holds requests with the 8-bit pixels the PyTorch graph produces; the "
        "worker's tests compare what it serves against them.",
        "",
    ]


def _reproduce(man: dict) -> list[str]:
    model_id = man["id"]
    ev = man.get("evaluation") or {}
    evaluate = ev.get("command") or f"npm run model:evaluate -- --id {model_id}"
    return [
        "## Reproduce",
        "",
        "```sh",
        "npm run setup            # .venv with torch 2.13.0 CPU, data sets from npm",
        *man["training"]["command"].split("\n"),
        evaluate,
        f"npm run model:export -- --id {model_id}",
        "```",
        "",
        "Training resumes from `runs/<id>/last.safetensors` when interrupted.",
        "",
        *_training_state(ev),
    ]


def _training_state(ev: dict) -> list[str]:
    """Checkpoints are not in git: every one the evaluation reads is named with its command."""
    lines = ["Checkpoints live under `runs/` (not in git); the commands above write them."]
    if ev.get("mf_baseline"):
        lines += [
            "The ablation's baselines are rebuilt by",
            "`npm run model:train-baseline` (`runs/mf-mnist/last.safetensors`) and by the first",
            "`npm run model:train` above, whose `mnist-cpu` preset keeps the snapshot",
            "`runs/imf-mnist/step-003200.safetensors`.",
        ]
    if ev.get("ab"):
        lines += [
            "The A/B's note (above) names its runs; `npm run model:compare` scored them",
            "(models/README.md gives the commands).",
        ]
    return lines + [""]


def write_card(path: Path, man: dict) -> None:
    """MODEL_CARD.md from a manifest: a trained model's (training, evaluation, A/B, export) or an
    imported one's (source, published figures, what was run)."""
    if man.get("source"):
        lines = imported_lines(man, parity_text)
    else:
        ev = man.get("evaluation") or {}
        lines = _header(man)
        if ev:
            lines += _levels(ev) + _guidance_grid(ev) + _evaluation(ev, len(man["classes"]))
            lines += _ab(ev, man)
            lines += _mf_baseline(ev)
        lines += _export(man) + _reproduce(man)
    Path(path).write_text("\n".join(lines))
