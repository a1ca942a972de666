import base64
import hashlib
import json
from pathlib import Path

import jsonschema
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from conftest import randomized
from imf.training import checkpoint as ckpt
from imf.export.checks import PIXEL_TOLERANCE, REFERENCE_REQUESTS
from imf.export.export import main
from imf.core.noise import batch_noise
from imf.training.presets import PRESETS
from imf.training.train import apply_overrides, train

# The manifest's one schema, written from its TypeScript definition (contract/src/manifest.ts).
MANIFEST_SCHEMA = Path(__file__).resolve().parents[2] / "contract" / "manifest.schema.json"


def schema_errors(manifest: dict) -> list[str]:
    schema = json.loads(MANIFEST_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A smoke checkpoint with randomised EMA weights (so outputs are not trivially zero),
    exported the way a shipped model is."""
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("run")
    # ema_decay=0: the EMA is the latest weights, so the bias correction leaves it as set here
    train(apply_overrides(PRESETS["smoke"], ["steps=2", "ema_decay=0"]), run, quiet=True)
    state = ckpt.load(run / "last.safetensors")
    from imf.core.network import ImfDiT
    net = randomized(ImfDiT(state.config.model), std=0.1)
    state.ema = net.state_dict()
    ckpt.save(run / "last.safetensors", state)
    out = tmp_path_factory.mktemp("model")
    assert main(["--checkpoint", str(run / "last.safetensors"), "--id", "imf-test", "--out",
                 str(out), "--omega", "2.5"]) == 0
    return out, net


def session(folder):
    return ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


def test_graph_has_the_contract_inputs_and_dynamic_batch(exported):
    folder, _ = exported
    s = session(folder)
    ins = {i.name: (i.type, i.shape) for i in s.get_inputs()}
    assert ins == {"noise": ("tensor(float)", ["batch", 1, 28, 28]),
                   "class": ("tensor(int64)", ["batch"]),
                   "guidance": ("tensor(float)", ["batch"]),
                   "t_min": ("tensor(float)", ["batch"]), "t_max": ("tensor(float)", ["batch"])}
    assert [(o.name, o.type, o.shape) for o in s.get_outputs()] == [
        ("image", "tensor(uint8)", ["batch", 28, 28, 1])]
    onnx.checker.check_model(str(folder / "model.onnx"))


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_onnx_matches_pytorch(exported, batch):
    folder, net = exported
    g = torch.Generator().manual_seed(batch)
    feeds = {"noise": torch.randn(batch, 1, 28, 28, generator=g),
             "class": torch.randint(0, 11, (batch,), generator=g),
             "guidance": 1 + 7 * torch.rand(batch, generator=g),
             "t_min": 0.5 * torch.rand(batch, generator=g),
             "t_max": 0.5 + 0.5 * torch.rand(batch, generator=g)}
    got = session(folder).run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    with torch.no_grad():
        h = torch.ones(batch)
        x = feeds["noise"] - net.u(feeds["noise"], h, feeds["guidance"], feeds["t_min"],
                                   feeds["t_max"], feeds["class"])
    # the graph rounds the image to 8-bit pixels, HWC, as the official evaluation writes them
    expected = np.round(np.clip((x.numpy() + 1) / 2 * 255, 0, 255)).transpose(0, 2, 3, 1)
    assert got.dtype == np.uint8
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= PIXEL_TOLERANCE["max"]
    assert (diff > 0).sum() <= PIXEL_TOLERANCE["share"] * diff.size


def test_manifest_describes_the_model(exported):
    folder, _ = exported
    man = json.loads((folder / "model.json").read_text())
    digest = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    assert man["graph"] == "model.onnx" and [f["name"] for f in man["files"]] == ["model.onnx"]
    assert man["content_sha256"] == digest and man["version"] == digest[:16]
    assert man["outputs"][0]["shape"] == ["batch", 28, 28, 1] and man["outputs"][0]["dtype"] == "uint8"
    assert man["id"] == "imf-test" and man["nfe"] == 1
    assert [i["name"] for i in man["inputs"]] == ["noise", "class", "guidance", "t_min", "t_max"]
    assert man["classes"] == [str(i) for i in range(10)] and man["null_class"] == 10
    assert man["guidance"] == {"min": 1.0, "max": 8.0, "default": 2.5}
    assert man["interval"]["default"] == [0.0, 1.0]
    assert man["noise"]["generator"] == "xoshiro128ss-boxmuller/1"
    assert max(d["max"] for d in man["parity"]["batches"].values()) <= PIXEL_TOLERANCE["max"]
    assert man["training"]["config"]["model"]["hidden_size"] == 32


def test_manifest_is_valid_against_the_contract_schema(exported):
    folder, _ = exported
    assert schema_errors(json.loads((folder / "model.json").read_text())) == []


@pytest.mark.parametrize("change", [
    lambda m: m["inputs"].reverse(),
    lambda m: m["inputs"][1].update(dtype="float32"),
    lambda m: m["outputs"][0].update(name="images"),
    lambda m: m.update(colour="red"),
    lambda m: m["noise"].pop("order"),
], ids=["inputs-out-of-order", "float-class", "renamed-output", "unknown-field", "no-noise-order"])
def test_the_contract_schema_refuses_a_manifest_off_the_contract(exported, change):
    folder, _ = exported
    man = json.loads((folder / "model.json").read_text())
    change(man)
    assert schema_errors(man) != []


def test_reference_outputs_are_what_the_onnx_graph_produces(exported):
    folder, _ = exported
    ref = json.loads((folder / "reference.json").read_text())
    assert len(ref["requests"]) == len(REFERENCE_REQUESTS)
    s = session(folder)
    for req in ref["requests"]:
        out = s.run(None, {"noise": batch_noise([req["seed"]], (1, 28, 28)).numpy(),
                           "class": np.array([req["class"]], dtype=np.int64),
                           "guidance": np.array([req["guidance"]], dtype=np.float32),
                           "t_min": np.array([req["t_min"]], dtype=np.float32),
                           "t_max": np.array([req["t_max"]], dtype=np.float32)})[0]
        pixels = out.ravel()
        expected = np.frombuffer(base64.b64decode(req["pixels_base64"]), dtype=np.uint8)
        assert np.abs(pixels.astype(int) - expected.astype(int)).max() <= 1


def test_exporting_an_mf_baseline_is_refused(tmp_path, capsys):
    train(apply_overrides(PRESETS["smoke"], ["steps=1", "objective=mf"]), tmp_path, quiet=True)
    code = main(["--checkpoint", str(tmp_path / "last.safetensors"), "--id", "x", "--out",
                 str(tmp_path / "m")])
    assert code == 2 and "only iMF models are served" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clear_error(tmp_path, capsys):
    code = main(["--checkpoint", str(tmp_path / "none.safetensors"), "--id", "x", "--out",
                 str(tmp_path / "m")])
    assert code == 2 and "not found" in capsys.readouterr().err
