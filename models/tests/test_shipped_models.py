"""Every shipped model folder models/<id>/ honours the contract the worker relies on."""

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from imf.export.manifest import check_files
from imf.core.noise import NAME, batch_noise
from imf.evaluation.evaluate import choose_default

MODELS = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.parent for p in MODELS.glob("*/model.json"))


def test_the_trained_models_are_shipped():
    assert [p.name for p in SHIPPED] == ["imf-fashion", "imf-mnist"]


@pytest.fixture(params=SHIPPED, ids=lambda p: p.name)
def folder(request):
    return request.param


def test_folder_has_every_artifact_and_stays_small(folder):
    for name in ("model.onnx", "model.json", "reference.json", "MODEL_CARD.md", "samples.png",
                 "omega-sweep.png", "guidance-tradeoff.png"):
        assert (folder / name).is_file(), name
    assert sum(f.stat().st_size for f in folder.iterdir()) < 20e6


def test_version_is_the_hash_of_the_onnx_file(folder):
    man = json.loads((folder / "model.json").read_text())
    assert [f["name"] for f in man["files"]] == [man["graph"]] == ["model.onnx"]
    digest = hashlib.sha256((folder / man["graph"]).read_bytes()).hexdigest()
    assert man["content_sha256"] == digest and man["version"] == digest[:16]
    assert check_files(folder, man) == []
    assert man["id"] == folder.name
    assert json.loads((folder / "reference.json").read_text())["model_version"] == man["version"]


def test_manifest_names_the_served_noise_and_a_sane_guidance_range(folder):
    man = json.loads((folder / "model.json").read_text())
    assert man["noise"]["generator"] == NAME
    g = man["guidance"]
    assert 1.0 <= g["min"] <= g["default"] <= g["max"]
    lo, hi = man["interval"]["default"]
    assert 0.0 <= lo < hi <= 1.0
    assert len(man["classes"]) == man["null_class"]


def test_card_numbers_are_the_manifests_evaluation_at_the_default_guidance(folder):
    man = json.loads((folder / "model.json").read_text())
    ev = man["evaluation"]
    assert ev["guidance"]["omega"] == man["guidance"]["default"]
    assert [ev["guidance"]["t_min"], ev["guidance"]["t_max"]] == man["interval"]["default"]
    assert ev["step"] == man["training"]["steps"] and ev["objective"] == "imf"
    card = (folder / "MODEL_CARD.md").read_text()
    assert f"{100 * ev['one_step']['accuracy']:.1f}%" in card and str(ev["one_step"]["fid"]) in card


def test_the_default_guidance_was_chosen_on_the_grid_and_clears_its_floor(folder):
    ev = json.loads((folder / "model.json").read_text())["evaluation"]
    chosen = [r for r in ev["guidance_grid"] if (r["omega"], r["t_min"], r["t_max"]) ==
              (ev["guidance"]["omega"], ev["guidance"]["t_min"], ev["guidance"]["t_max"])]
    assert len(chosen) == 1
    floor = ev["default_rule"]["min_accuracy"]
    above = [r for r in ev["guidance_grid"] if r["accuracy"] >= floor]
    assert above and chosen[0] == choose_default(ev["guidance_grid"], floor, ev["real"])
    assert ev["one_step"] == {k: v for k, v in chosen[0].items() if k in ev["one_step"]}
    assert ev["one_step"]["accuracy"] >= floor


def test_imf_mnist_keeps_its_accuracy_floor():
    ev = json.loads((MODELS / "imf-mnist" / "model.json").read_text())["evaluation"]
    assert ev["default_rule"]["min_accuracy"] >= 0.99


def test_card_shows_the_trade_off_and_the_a_b_table(folder):
    card = (folder / "MODEL_CARD.md").read_text()
    assert "](guidance-tradeoff.png)" in card and "## The default guidance" in card
    assert "## The A/B behind the recipe" in card and "| variant | steps |" in card


def test_card_shows_every_measure_beside_the_real_images_value(folder):
    man = json.loads((folder / "model.json").read_text())
    real, one = man["evaluation"]["real"], man["evaluation"]["one_step"]
    card = (folder / "MODEL_CARD.md").read_text()
    assert "### Every measure beside the real images' value" in card
    raw = man["evaluation"].get("one_step_raw")  # the network's pixels before its output levels
    for label, key in (("pixels exactly 0", "zero_fraction"), ("pixels in 10–59", "haze_fraction")):
        cells = [one[key], *([raw[key]] if raw else []), real[key]]
        assert f"| {label} | " + " | ".join(f"{v:.3f}" for v in cells) + " |" in card
    assert "no pixel measure is further from the real value" in card  # the rule


def test_reference_pixels_reproduce_with_onnxruntime(folder):
    man = json.loads((folder / "model.json").read_text())
    shape = tuple(man["noise"]["shape"])
    session = ort.InferenceSession(str(folder / man["graph"]), providers=["CPUExecutionProvider"])
    ref = json.loads((folder / "reference.json").read_text())
    off_by_one = 0
    for req in ref["requests"]:
        out = session.run(None, {
            "noise": batch_noise([req["seed"]], shape).numpy(),
            "class": np.array([req["class"]], dtype=np.int64),
            "guidance": np.array([req["guidance"]], dtype=np.float32),
            "t_min": np.array([req["t_min"]], dtype=np.float32),
            "t_max": np.array([req["t_max"]], dtype=np.float32)})[0]
        pixels = out.astype(np.int16).ravel()  # the graph gives the 8-bit pixels, HWC
        raw = base64.b64decode(req["pixels_base64"])
        assert hashlib.sha256(raw).hexdigest() == req["pixels_sha256"]
        diff = np.abs(pixels - np.frombuffer(raw, dtype=np.uint8).astype(np.int16))
        assert diff.max() <= 1
        off_by_one += int((diff == 1).sum())
    assert off_by_one <= 8  # rounding ties only; a real mismatch moves many pixels


def test_card_names_the_commands_that_rebuild_every_checkpoint_it_compares(folder):
    """Training state is not in git: a card that compares against a checkpoint says how to make it."""
    card = (folder / "MODEL_CARD.md").read_text()
    ev = json.loads((folder / "model.json").read_text())["evaluation"]
    assert "Checkpoints live under `runs/` (not in git)" in card
    assert "models/checkpoints" not in card
    if ev.get("mf_baseline"):
        assert "`npm run model:train-baseline` (`runs/mf-mnist/last.safetensors`)" in card
    if ev.get("ab"):
        assert "models/README.md gives the commands" in card
        readme = (MODELS / "README.md").read_text()
        assert "npm run model:compare" in readme and "--init-from" in readme


def test_no_training_state_is_tracked_in_git():
    import subprocess
    tracked = subprocess.run(["git", "ls-files", "--", "checkpoints", "*.safetensors", "*.pt",
                              "*.pth"], cwd=MODELS, capture_output=True, text=True, check=True)
    assert tracked.stdout.split() == []


def test_card_says_when_its_steps_continue_an_earlier_run(folder):
    """A run started with --init-from counts only its own steps: the card must not pass them off
    as the whole training."""
    man = json.loads((folder / "model.json").read_text())
    card = (folder / "MODEL_CARD.md").read_text()
    continued = bool(man["training"]["config"].get("init_from"))
    assert ("from the EMA weights of an earlier run" in card) == continued
