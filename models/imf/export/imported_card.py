"""The sections of MODEL_CARD.md for an imported model (model_card.write_card writes every card),
from its manifest: where the weights came from (with their sha256), what the graph is, the
defaults, the published quality figures (labelled as published, never measured here) and what was
and was not run on this machine."""

from __future__ import annotations



def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def imported_lines(man: dict, parity_text) -> list[str]:
    src = man["source"]
    arch = src["architecture"]
    img = man["image"]
    g = man["guidance"]
    random = src["kind"].startswith("random")
    lines = [f"# {man['id']} — model card", ""]
    if random:
        lines += ["**RANDOM WEIGHTS.** This folder was built from a random-weight instance of the "
                  "official architecture, as a test fixture. Its images are noise-like patterns, "
                  "not pictures; it is not a model.", ""]
    lines += [
        f"A class-conditional **improved MeanFlow** ({arch['name']}) generator for ImageNet "
        f"{img['width']}×{img['height']} ({img['color']}), imported from "
        + ("random weights" if random else f"the checkpoint `{src['checkpoint']['file']}` (official "
                                           "iMF format)")
        + f": {man['nfe']} network evaluation{'s' if man['nfe'] > 1 else ''} in latent space, then "
        "the VAE decoder. The guidance scale ω and the interval [t_min, t_max] are inputs.",
        "",
        f"- version `{man['version']}` (sha256 over the graph and its weight file: "
        f"`{man['content_sha256']}`)",
        f"- source checkpoint `{src['checkpoint']['file']}`, sha256 "
        f"`{src['checkpoint']['sha256']}` ({_mb(src['checkpoint']['bytes'])})",
        f"- VAE weights `{src['vae']['weights']['file']}`, sha256 `{src['vae']['weights']['sha256']}`",
        f"- network: hidden {arch['hidden_size']}, {arch['num_heads']} heads of {arch['head_dim']}, "
        f"{arch['shared_depth']} shared + {arch['head_depth']} u-head blocks, patch "
        f"{arch['patch_size']}, latent {arch['channels']}×{arch['image_size']}×{arch['image_size']}; "
        f"{arch['parameters'] / 1e6:.2f}M parameters in the checkpoint, "
        f"{man['parameters'] / 1e6:.2f}M in the served graph (generator and VAE decoder)",
        f"- classes: {len(man['classes'])} (ImageNet-1k names), null (unconditional) class index "
        f"{man['null_class']}",
        f"- defaults: ω = {g['default']}, interval {man['interval']['default']} "
        f"({man['defaults_source']}); ω accepted in [{g['min']}, {g['max']}]",
        f"- noise: `{man['noise']['generator']}` over the latent shape {man['noise']['shape']} "
        f"(see {man['noise']['spec']})",
        "",
        f"![samples at the defaults: classes {', '.join(map(str, man['samples']['classes']))}, "
        f"seeds {', '.join(map(str, man['samples']['seeds']))}](samples.png)",
        "",
    ]
    pub = man.get("published")
    if pub:
        lines += [
            "## Published quality (not measured here)",
            "",
            f"At ω = {pub['omega']}, interval {pub['interval']}, {man['nfe']}-NFE, ImageNet "
            f"256×256 FID-50K: **{pub['fid_paper']}** in the paper (arXiv 2512.02012), "
            f"{pub['fid_official_pytorch']} with the official PyTorch code"
            + (f"; Inception Score {pub['is_paper']} in the paper" if pub.get("is_paper") else "")
            + ". These are the authors' figures for their released weights of this size; they "
            "describe this model only if its checkpoint is that file (compare the sha256 above "
            "with the one you downloaded). No FID or IS has been computed in this repository: it "
            "has no ImageNet data and no GPU.",
            "",
        ]
    par = man["parity"]
    pix = par["reference"]
    out = man["outputs"][0]
    timing = man["seconds_per_image"]
    lines += [
        "## Graph",
        "",
        f"- `{man['graph']}`: `noise [B,"
        + ",".join(map(str, man["noise"]["shape"]))
        + "]`, `class int64 [B]`, `guidance [B]`, `t_min [B]`, `t_max [B]` → "
        f"`image uint8 [B,{','.join(map(str, out['shape'][1:]))}]` ({out['layout']}): the whole "
        f"{man['nfe']}-NFE sampler in latent space, the latent de-normalisation and the VAE "
        f"decoder in one graph ({out['meaning']}); the v head is not part of it.",
        "- files: " + ", ".join(f"`{f['name']}` {_mb(f['bytes'])}" for f in man["files"]),
        *_precision_lines(man.get("precision")),
        "",
        "## What was run",
        "",
        f"Imported on a CPU only ({src['imported_on']}) by `{src['command']}`. There:",
        "",
        "- the checkpoint loaded strictly into the network (every key and shape matched);",
        "- " + ("the float32 graph, before its float16 rewrite: " if _is_half(man) else "")
        + parity_text(par),
        *(_half_difference_lines(man["precision"]) + [
            "- the float16 graph's 8-bit pixels of the reference requests in one batch against "
            f"each alone: max difference {pix['one_batch']['max']} "
            f"({pix['one_batch']['differing']} of {pix['one_batch']['values']} values differ);"]
          if _is_half(man) else [
            "- 8-bit pixels of the reference requests against PyTorch's: alone "
            f"max difference {pix['alone']['max']} ({pix['alone']['differing']} of "
            f"{pix['alone']['values']} values differ), in one batch max "
            f"{pix['one_batch']['max']} ({pix['one_batch']['differing']} differ);"]),
        f"- seconds per image at batch 1 (onnxruntime CPU, threads: {timing['threads']}): "
        f"{timing['seconds']}.",
        "",
        "Not run here: any GPU, any quality metric (FID, IS), any comparison with images made by "
        "the official code from the real weights.",
        "",
        "`reference.json` holds requests with the 8-bit pixels (HWC) "
        + ("this float16 graph gives them on onnxruntime's CPU provider"
           if _is_half(man) else "the PyTorch graph gives them")
        + "; the worker's tests compare against them.",
        "",
    ]
    return lines


def _is_half(man: dict) -> bool:
    return man.get("precision", {}).get("compute", "float32") != "float32"


def _precision_lines(precision: dict | None) -> list[str]:
    if not precision or precision["compute"] == "float32":
        return ["- precision: float32 throughout"]
    *others, last = precision["float32_parts"]
    return [f"- precision: **{precision['compute']}** weights and arithmetic in the network and "
            "the VAE decoder; float32 in " + ", ".join(others) + (" and " if others else "") + last
            + ". The inputs and the output are the float32 graph's (float32 and int64 in, "
            "uint8 out)."]


def _half_difference_lines(precision: dict) -> list[str]:
    d, tol = precision["against_float32"], precision["tolerance"]
    psnr = f"PSNR {d['psnr_db']} dB" if "psnr_db" in d else "identical pixels"
    return [f"- {precision['compute']} against float32: this graph's 8-bit pixels on the "
            f"{d['requests']} reference requests against the float32 PyTorch graph's: max "
            f"difference {d['max']} level{'' if d['max'] == 1 else 's'}, {d['differing']} of "
            f"{d['values']} values differ ({100 * d['share']:.2f}%), mean difference {d['mean_abs']} levels, {psnr} "
            f"(accepted: mean at most {tol['mean_abs_max']} levels, PSNR at least "
            f"{tol['psnr_db_min']} dB). Measured on onnxruntime's CPU provider, which rounds "
            "every float16 tensor between ops as the GPU does but computes inside an op in "
            "float32 where it has no float16 kernel; on a GPU the last bits differ "
            "(`npm run gpu:check` measures CUDA against the CPU);"]
