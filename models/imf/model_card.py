"""MODEL_CARD.md for a shipped model, written from its manifest so the card's numbers are the
evaluator's numbers, never retyped."""

from __future__ import annotations

from pathlib import Path


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def write_card(path: Path, man: dict) -> None:
    ev = man.get("evaluation") or {}
    cfg = man["training"]["config"]
    m = cfg["model"]
    g = man["guidance"]
    lines = [
        f"# {man['id']} — model card",
        "",
        f"A class-conditional **improved MeanFlow** generator for {cfg['dataset']} "
        f"({m['image_size']}×{m['image_size']}, {m['channels']} channel): one network evaluation "
        "turns seeded Gaussian noise into an image; the guidance scale ω and the guidance interval "
        "[t_min, t_max] are inputs. Trained from scratch in this repository.",
        "",
        f"- version `{man['version']}` (sha256 of `model.onnx`: `{man['sha256']}`)",
        f"- classes: {', '.join(man['classes'])}; null (unconditional) class index {man['null_class']}",
        f"- guidance ω in [{g['min']}, {g['max']}], default {g['default']}; default interval "
        f"{man['interval']['default']}",
        f"- noise: `{man['noise']['generator']}` (seed → N(0,1), see {man['noise']['spec']})",
        f"- network: imfDiT, hidden {m['hidden_size']}, {m['num_heads']} heads, "
        f"{m['shared_depth']} shared + {m['head_depth']} u-head + {m['head_depth']} v-head blocks, "
        f"patch {m['patch_size']}, conditioning tokens class {m['class_tokens']} / ω "
        f"{m['omega_tokens']} / t_min {m['t_min_tokens']} / t_max {m['t_max_tokens']} / h "
        f"{m['time_tokens']}",
        f"- training: {man['training']['steps']} steps × batch {cfg['batch_size']}, AdamW lr "
        f"{cfg['lr']}, EMA {cfg['ema_decay']}, seed {cfg['seed']}",
        "",
        "![samples: rows are classes 0–9, columns seeds 0–9](samples.png)",
        "",
    ]
    if ev:
        o, t = ev["one_step"], ev["two_step"]
        gd = ev["guidance"]
        lines += [
            "## Evaluation",
            "",
            f"Measured by `python -m imf.evaluate` with the repository's classifier (test accuracy "
            f"{_pct(ev['classifier_test_accuracy'])} on real test images); FID is computed on its "
            "128-d penultimate features against the test split (so it is not comparable with "
            f"Inception FID). Guidance ω = {gd['omega']}, interval [{gd['t_min']}, {gd['t_max']}]; "
            "sample i uses seed i and class i mod 10.",
            "",
            "| sampler | NFE | samples | class accuracy | FID | diversity |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| u head, one step | 1 | {o['samples']} | **{_pct(o['accuracy'])}** | {o['fid']} | {o['diversity']} |",
            f"| u head, two steps | 2 | {t['samples']} | {_pct(t['accuracy'])} | {t['fid']} | {t['diversity']} |",
        ]
        for row in ev["v_head_euler"]:
            lines.append(f"| v head, Euler | {row['steps']} | {row['samples']} | "
                         f"{_pct(row['accuracy'])} | {row['fid']} | {row['diversity']} |")
        lines += ["", "### Guidance sweep (1-NFE)", "",
                  "| ω | class accuracy | diversity | FID |", "| --- | --- | --- | --- |"]
        for row in ev["omega_sweep"]:
            lines.append(f"| {row['omega']} | {_pct(row['accuracy'])} | {row['diversity']} | {row['fid']} |")
        lines += ["", "![omega sweep](omega-sweep.png)", ""]
        mf = ev.get("mf_baseline")
        if mf:
            lines += [
                "### Ablation: iMF against the original MeanFlow objective",
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
    par = man["parity"]
    lines += [
        "## Export",
        "",
        "`model.onnx` is the whole one-step sampler: inputs `noise [B,C,H,W]`, `class int64 [B]`, "
        "`guidance [B]`, `t_min [B]`, `t_max [B]`; output `image [B,C,H,W]` in [-1, 1]; dynamic "
        "batch; the v head is left out. onnxruntime against PyTorch, max abs difference: "
        + ", ".join(f"batch {b}: {d:.1e}" for b, d in par["batches"].items())
        + f" (tolerance {par['tolerance']}).",
        "",
        "`reference.json` holds requests with the 8-bit pixels the Python sampler produces; the "
        "worker's tests compare against them.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "npm run setup                       # .venv with torch 2.13.0 CPU, data sets from npm",
        f"{man['training']['command']}   # resumes if interrupted",
        "npm run model:train-baseline        # the MF baseline for the ablation",
        "npm run model:evaluate",
        "npm run model:export",
        "```",
        "",
    ]
    Path(path).write_text("\n".join(lines))
