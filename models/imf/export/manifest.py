"""The manifest (model.json) every served model has, whoever wrote its graph (the export of a
trained model or the import of an official one): the graph and every file it needs (the graph,
then its external-data file if any) with each file's sha256, the sampler's inputs and output, the
request limits and defaults, and the noise. The version is the content hash over every file, so
changing any weight changes the version and with it every image key.

    version = sha256(bytes of every file, concatenated in the order listed)[:16]"""

from __future__ import annotations

import hashlib
from pathlib import Path

from imf.core.noise import NAME as NOISE_NAME
from imf.export.graphs import INPUT_SPECS, TO_PIXELS

SCHEMA = "imf-model/3"
CHUNK = 16 << 20


def tensor(name: str, dtype: str, shape: list, meaning: str, **extra) -> dict:
    return {"name": name, "dtype": dtype, "shape": shape, "meaning": meaning, **extra}


def sampler_tensors(noise_shape: list[int], image_hwc: list[int], image_meaning: str,
                    pixels: str = TO_PIXELS) -> tuple[list[dict], list[dict]]:
    """The graph's inputs (noise [batch, *noise_shape], the rest [batch]) and its one output,
    8-bit pixels [batch, H, W, C] (`pixels`: how they are made from x)."""
    inputs = [tensor(name, dtype, ["batch", *noise_shape] if name == "noise" else ["batch"], meaning)
              for name, dtype, meaning in INPUT_SPECS]
    outputs = [tensor("image", "uint8", ["batch", *image_hwc],
                      f"8-bit pixels, {pixels} of {image_meaning}", layout="NHWC")]
    return inputs, outputs


def hash_files(folder: Path, names: list[str]) -> tuple[list[dict], str]:
    """({name, sha256, bytes} for each file, and the sha256 of all of them concatenated), in one
    read of each file."""
    whole = hashlib.sha256()
    entries = []
    for name in names:
        one = hashlib.sha256()
        size = 0
        with open(Path(folder) / name, "rb") as f:
            while chunk := f.read(CHUNK):
                one.update(chunk)
                whole.update(chunk)
                size += len(chunk)
        entries.append({"name": name, "sha256": one.hexdigest(), "bytes": size})
    return entries, whole.hexdigest()


def sha256_file(path: Path) -> str:
    return hash_files(Path(path).parent, [Path(path).name])[0][0]["sha256"]


def build_manifest(*, model_id: str, folder: Path, files: list[str], noise_shape: list[int],
                   channels: int, height: int, width: int, image_meaning: str, classes: list[str],
                   null_class: int, guidance: dict, interval: list[float], nfe: int, method: str,
                   pixels: str = TO_PIXELS, **extra) -> dict:
    """The whole manifest. `files` names the graph first, then its external data; they are hashed
    here. `extra` adds the optional fields (parity, training, evaluation, source, ...)."""
    if not files or not files[0].endswith(".onnx"):
        raise ValueError("the files must start with the .onnx graph")
    entries, content = hash_files(folder, files)
    inputs, outputs = sampler_tensors(list(noise_shape), [height, width, channels], image_meaning,
                                      pixels)
    return {
        "schema": SCHEMA,
        "id": model_id,
        "version": content[:16],
        "content_sha256": content,
        "method": method,
        "nfe": nfe,
        "image": {"channels": channels, "height": height, "width": width,
                  "color": "rgb" if channels == 3 else "grayscale"},
        "graph": files[0],
        "files": entries,
        "inputs": inputs,
        "outputs": outputs,
        "classes": classes,
        "null_class": null_class,
        "guidance": guidance,
        "interval": {"default": list(interval)},
        "noise": {"generator": NOISE_NAME, "seed": "uint32", "shape": list(noise_shape),
                  "order": "CHW", "spec": "models/noise/SPEC.md",
                  "test_vectors": "models/noise/test-vectors.json"},
        **{k: v for k, v in extra.items() if v is not None},
    }


def check_files(folder: Path, manifest: dict) -> list[str]:
    """What is wrong with the files of a model folder (empty: every file is there with its
    recorded sha256 and the version is their content hash)."""
    folder = Path(folder)
    recorded = manifest["files"]
    problems = [f"{e['name']} is missing" for e in recorded if not (folder / e["name"]).is_file()]
    if problems:
        return problems
    entries, content = hash_files(folder, [e["name"] for e in recorded])
    for got, want in zip(entries, recorded):
        if got["sha256"] != want["sha256"] or got["bytes"] != want["bytes"]:
            problems.append(f"{want['name']}: sha256 {got['sha256']} ({got['bytes']} bytes), "
                            f"manifest says {want['sha256']} ({want['bytes']} bytes)")
    if manifest["version"] != content[:16] or manifest.get("content_sha256") != content:
        problems.append(f"version {manifest['version']} is not the content hash {content[:16]}")
    return problems
