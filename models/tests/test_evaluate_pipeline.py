"""Train → evaluate → export through the command lines, on a tiny class-per-folder data set: the
evaluator chooses the default guidance on its grid, the export serves that default, and the card
shows the grid, the trade-off plot, the A/B table and the commands that reproduce the model."""

import json

import numpy as np
import pytest
from PIL import Image

from imf.data import folder
from imf.evaluation import classifier, evaluate
from imf.export import export
from imf.training import train
from imf.evaluation.evaluate import choose_default


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    mp = pytest.MonkeyPatch()
    mp.setattr(folder, "CACHE_DIR", tmp / "folder-cache")
    mp.setattr(classifier, "CACHE_DIR", tmp / "classifier-cache")
    # a small grid keeps the run fast; the rule and the plumbing are what is under test
    mp.setattr(evaluate, "GRID_OMEGAS", [1.0, 2.0, 4.0])
    mp.setattr(evaluate, "GRID_INTERVALS", [(0.0, 1.0), (0.2, 0.8)])
    mp.setattr(evaluate, "EULER_STEPS", [1])
    mp.setattr(evaluate, "OMEGA_SWEEP", [1.0, 2.0])
    rng = np.random.default_rng(0)
    data = tmp / "shapes"
    for name, level in (("dark", 40), ("light", 215)):
        (data / name).mkdir(parents=True)
        for i in range(30):
            pixels = np.clip(rng.normal(level, 30, (8, 8)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(data / name / f"{i:03d}.png")
    run = tmp / "run"
    assert train.main(["--data", str(data), "--resolution", "8", "--channels", "1", "--preset",
                       "smoke", "--set", "steps=4", "--set", "batch_size=8", "--set",
                       "model.patch_size=4", "--out", str(run)]) == 0
    ab = tmp / "ab.json"
    ab.write_text(json.dumps({
        "dataset": "mnist", "note": "Two continuations of one checkpoint.",
        "guidance": {"omega": 3.0, "t_min": 0.0, "t_max": 1.0},
        "rows": [{"name": name, "step": 20, "recipe": f"recipe {name}",
                  "one_step": {"fid": fid, "accuracy": 0.9, "diversity": 0.5, "samples": 100},
                  "two_step": {"fid": fid / 2, "accuracy": 0.9, "diversity": 0.5, "samples": 100}}
                 for name, fid in (("official", 40.0), ("endpoint", 30.0))]}))
    assert evaluate.main(["--id", "tiny", "--checkpoint", str(run / "last.safetensors"),
                          "--out", str(run / "eval"), "--samples", "120", "--sweep-samples",
                          "100", "--min-accuracy", "0.5", "--ab", str(ab), "--threads", "1"]) == 0
    out = tmp / "models" / "tiny"
    assert export.main(["--id", "tiny", "--checkpoint", str(run / "last.safetensors"),
                        "--eval", str(run / "eval"), "--out", str(out)]) == 0
    yield {"data": data, "run": run, "out": out,
           "eval": json.loads((run / "eval" / "eval.json").read_text()),
           "manifest": json.loads((out / "model.json").read_text()),
           "card": (out / "MODEL_CARD.md").read_text()}
    mp.undo()


def test_the_evaluator_chooses_the_default_on_the_whole_grid(pipeline):
    ev = pipeline["eval"]
    assert len(ev["guidance_grid"]) == 6
    chosen = choose_default(ev["guidance_grid"], 0.5, ev["real"])
    assert ev["guidance"] == {k: chosen[k] for k in ("omega", "t_min", "t_max")}
    assert ev["default_rule"]["min_accuracy"] == 0.5
    assert (pipeline["run"] / "eval" / "guidance-tradeoff.png").stat().st_size > 1000


def test_the_headline_numbers_are_the_chosen_grid_point(pipeline):
    ev = pipeline["eval"]
    g = ev["guidance"]
    chosen = next(r for r in ev["guidance_grid"]
                  if (r["omega"], r["t_min"], r["t_max"]) == (g["omega"], g["t_min"], g["t_max"]))
    assert chosen["samples"] == ev["one_step"]["samples"]
    assert {k: chosen[k] for k in ev["one_step"]} == ev["one_step"]


def test_the_export_serves_the_chosen_default(pipeline):
    man, ev = pipeline["manifest"], pipeline["eval"]
    assert man["guidance"]["default"] == ev["guidance"]["omega"]
    assert man["interval"]["default"] == [ev["guidance"]["t_min"], ev["guidance"]["t_max"]]
    assert man["classes"] == ["dark", "light"] and man["null_class"] == 2
    assert (pipeline["out"] / "guidance-tradeoff.png").is_file()


def test_the_manifest_records_commands_that_reproduce_the_model(pipeline):
    man = pipeline["manifest"]
    assert man["training"]["command"] == (
        f"npm run model:train -- --data {pipeline['data']} --resolution 8 --channels 1 --id tiny")
    assert man["evaluation"]["command"].startswith("npm run model:evaluate -- --id tiny ")
    assert "--ab" in man["evaluation"]["command"]


def test_the_card_shows_the_grid_the_plot_and_the_a_b_table(pipeline):
    card, ev = pipeline["card"], pipeline["eval"]
    g = ev["guidance"]
    chosen = next(r for r in ev["guidance_grid"]
                  if (r["omega"], r["t_min"], r["t_max"]) == (g["omega"], g["t_min"], g["t_max"]))
    assert f"**{chosen['fid']:.1f} / {100 * chosen['accuracy']:.1f}%**" in card
    assert card.count("**") >= 4  # the chosen cell, the default and the headline numbers
    assert "](guidance-tradeoff.png)" in card
    assert "| official | 20 | recipe official |" in card
    assert "Lowest 1-NFE FID: **endpoint**" in card
    assert "was run on MNIST handwritten digits, not on this model's data" in card
    assert "0: dark, 1: light" in card and "class i mod 2" in card
    assert "npm run model:export -- --id tiny" in card


def test_a_missing_a_b_file_is_a_clear_error(tmp_path, capsys):
    code = evaluate.main(["--checkpoint", str(tmp_path / "x.safetensors"), "--ab",
                          str(tmp_path / "nope.json")])
    assert code == 2 and "nope.json: no such file" in capsys.readouterr().err


def test_a_folder_run_is_measured_on_its_pixels_against_its_own_held_out_images(pipeline):
    ev = pipeline["eval"]
    real = ev["real"]  # the folder's held-out images against its training images
    assert real["samples"] == 6  # every tenth file of each class
    for name in ("zero_fraction", "haze_fraction", "histogram_distance", "pixel_fd",
                 "pixel_diversity", "fid", "accuracy"):
        assert name in real and name in ev["one_step"], name
        assert all(name in row for row in ev["guidance_grid"]), name
    assert 0 <= real["histogram_distance"] <= 1 and real["pixel_fd"] >= 0


def test_the_output_levels_travel_from_the_evaluation_into_the_served_graph(pipeline):
    """The evaluation fits levels at the chosen default; the export's graph applies exactly them
    (its reference pixels are the curve of the network's pixels) and the card says so."""
    import onnxruntime as ort
    import torch

    from imf.core.levels import apply_levels
    from imf.evaluation.evaluate import load_ema
    from imf.export.graphs import PixelSampler

    ev, man = pipeline["eval"], pipeline["manifest"]
    levels = np.asarray(ev["levels"]["curves"], dtype=np.uint8)
    assert levels.shape == (1, 256) and (np.diff(levels.astype(int), axis=1) >= 0).all()
    assert ev["levels"]["fitted_at"] == ev["guidance"]
    assert "levels[c][round(clip(" in man["outputs"][0]["meaning"]
    assert set(ev["one_step_raw"]) == set(ev["one_step"])
    for row in ev["guidance_grid"]:
        assert set(row["raw"]) == set(ev["one_step"])
    net, _, _ = load_ema(pipeline["run"] / "last.safetensors")
    session = ort.InferenceSession(str(pipeline["out"] / "model.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    feed = {"noise": rng.standard_normal((6, 1, 8, 8)).astype(np.float32),
            "class": np.arange(6) % 3, "guidance": np.full(6, 2.0, np.float32),
            "t_min": np.zeros(6, np.float32), "t_max": np.ones(6, np.float32)}
    served = session.run(None, feed)[0]
    with torch.no_grad():
        plain = PixelSampler(net)(*(torch.from_numpy(v) for v in feed.values())).numpy()
    want = np.moveaxis(apply_levels(np.moveaxis(plain, 3, 1), levels), 1, 3)
    assert np.abs(served.astype(int) - want.astype(int)).max() <= 1
    assert "## Output levels" in pipeline["card"]
    assert "the network's pixels before the output levels" in pipeline["card"]
