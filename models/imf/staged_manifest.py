"""The manifest (model.json) of a model served as stages: a generator graph and, for latent models,
a decoder graph, each with every file it needs (its graph and the graph's external-data file) and
each file's sha256. The version is the content hash over every file, so changing any weight changes
the version and with it every image key.

    version = sha256(bytes of every stage file, concatenated in the order listed)[:16]

For a model of one file this is that file's sha256, which is how one-stage manifests such as
imf-mnist's (schema imf-model/1: top-level file, sha256, inputs, outputs) already define it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .noise import NAME as NOISE_NAME

SCHEMA = "imf-model/2"
CHUNK = 16 << 20


def tensor(name: str, dtype: str, shape: list, meaning: str, **extra) -> dict:
    return {"name": name, "dtype": dtype, "shape": shape, "meaning": meaning, **extra}


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


def stage(graph: str, files: list[dict], inputs: list[dict], outputs: list[dict],
          **extra) -> dict:
    """One graph: `graph` is the .onnx file to open; `files` every file it needs, graph first
    (its external data, if any, lies beside it under the name recorded in the graph)."""
    if not files or files[0]["name"] != graph:
        raise ValueError("a stage's files must start with its graph")
    return {"graph": graph, "files": files, "inputs": inputs, "outputs": outputs, **extra}


def build_manifest(*, model_id: str, folder: Path, stages: dict[str, dict], image: dict,
                   classes: list[str], null_class: int, guidance: dict, interval: list[float],
                   noise_shape: list[int], nfe: int, method: str, **extra) -> dict:
    """The whole manifest. `stages` holds 'generator' and optionally 'decoder', each from
    stage() without its files hashed yet: their names are listed, hashes are computed here."""
    if set(stages) - {"generator", "decoder"} or "generator" not in stages:
        raise ValueError("stages are a generator and optionally a decoder")
    order = [name for s in ("generator", "decoder") if s in stages
             for name in stages[s]["files"]]
    entries, content = hash_files(folder, order)
    by_name = {e["name"]: e for e in entries}
    hashed = {}
    for key in ("generator", "decoder"):
        if key in stages:
            s = dict(stages[key])
            s["files"] = [by_name[n] for n in s["files"]]
            hashed[key] = stage(**s)
    return {
        "schema": SCHEMA,
        "id": model_id,
        "version": content[:16],
        "content_sha256": content,
        "method": method,
        "nfe": nfe,
        "image": image,
        "classes": classes,
        "null_class": null_class,
        "guidance": guidance,
        "interval": {"default": list(interval)},
        "noise": {"generator": NOISE_NAME, "seed": "uint32", "shape": list(noise_shape),
                  "order": "CHW", "spec": "models/noise/SPEC.md",
                  "test_vectors": "models/noise/test-vectors.json"},
        "stages": hashed,
        **extra,
    }


def check_files(folder: Path, manifest: dict) -> list[str]:
    """What is wrong with the files of a staged model folder (empty: every file is there with
    its recorded sha256 and the version is their content hash)."""
    folder = Path(folder)
    problems, names = [], []
    for key, s in manifest["stages"].items():
        for entry in s["files"]:
            names.append(entry["name"])
            if not (folder / entry["name"]).is_file():
                problems.append(f"{key}: {entry['name']} is missing")
    if problems:
        return problems
    entries, content = hash_files(folder, names)
    recorded = [e for s in manifest["stages"].values() for e in s["files"]]
    for got, want in zip(entries, recorded):
        if got["sha256"] != want["sha256"] or got["bytes"] != want["bytes"]:
            problems.append(f"{want['name']}: sha256 {got['sha256']} ({got['bytes']} bytes), "
                            f"manifest says {want['sha256']} ({want['bytes']} bytes)")
    if manifest["version"] != content[:16] or manifest.get("content_sha256") != content:
        problems.append(f"version {manifest['version']} is not the content hash {content[:16]}")
    return problems
