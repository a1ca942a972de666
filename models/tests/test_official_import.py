"""`npm run model:import` on tiny random-weight instances of the exact architecture: the folder it
writes, the merged graph (sampler, latent de-normalisation and VAE decoder) against PyTorch at 1
and 2 NFE, the reference pixels, the manifest, and the VAE folder's strict loading."""

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from imf.export import import_official as imp
from imf.export.checks import REFERENCE_REQUESTS
from imf.export.graphs import LatentSampler
from imf.export.manifest import SCHEMA, check_files
from imf.export.model_card import write_card
from imf.export.onnx_io import export_graph, session
from imf.export.imagenet_names import imagenet_class_names
from imf.core.noise import batch_noise
from imf.export.official_net import CheckpointFormatError, load_official
from imf.export.random_official import write_sources, write_vae
from imf.export.vae import LATENT_MEAN, LATENT_STD, TINY_VAE_CONFIG, load_vae

TOLERANCE = 1e-4
# The manifest's one schema, written from its TypeScript definition (contract/src/manifest.ts).
MANIFEST_SCHEMA = Path(__file__).resolve().parents[2] / "contract" / "manifest.schema.json"


def schema_errors(manifest: dict) -> list[str]:
    import jsonschema
    validator = jsonschema.Draft202012Validator(json.loads(MANIFEST_SCHEMA.read_text()))
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(manifest))


def run_import(*args):
    return imp.main([*map(str, args), "--threads", "1", "--quiet", "--grid-classes", "207,388",
                     "--grid-seeds", "0,1"])


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    torch.set_num_threads(1)
    return write_sources(tmp_path_factory.mktemp("sources"), "tiny", seed=0)


@pytest.fixture(scope="module", params=[1, 2], ids=["1nfe", "2nfe"])
def imported(request, sources, tmp_path_factory):
    checkpoint, vae, latent_size = sources
    out = tmp_path_factory.mktemp("models") / f"imf-tiny-{request.param}"
    assert run_import("--checkpoint", checkpoint, "--vae", vae, "--id", out.name, "--out", out,
                      "--latent-size", latent_size, "--nfe", request.param) == 0
    net, _ = load_official(checkpoint, latent_size)
    vae_model, _, _ = load_vae(vae)
    return {"folder": out, "nfe": request.param, "net": net, "vae": vae_model,
            "manifest": json.loads((out / "model.json").read_text())}


def feeds(batch, seed, latent=(4, 8, 8)):
    g = torch.Generator().manual_seed(seed)
    return {"noise": torch.randn(batch, *latent, generator=g),
            "class": torch.randint(0, 1001, (batch,), generator=g),
            "guidance": 1 + 11 * torch.rand(batch, generator=g),
            "t_min": 0.5 * torch.rand(batch, generator=g),
            "t_max": 0.5 + 0.5 * torch.rand(batch, generator=g)}


def as_numpy(f):
    return {k: v.numpy() for k, v in f.items()}


# -- the folder and its manifest ------------------------------------------------------------------

def test_folder_holds_one_graph_with_one_data_file_and_the_documents(imported):
    names = sorted(p.name for p in imported["folder"].iterdir())
    assert names == ["MODEL_CARD.md", "model.json", "model.onnx", "model.onnx.data",
                     "reference.json", "samples.png"]
    model = onnx.load(str(imported["folder"] / "model.onnx"), load_external_data=False)
    locations = {e.value for t in model.graph.initializer for e in t.external_data
                 if e.key == "location"}
    assert locations == {"model.onnx.data"}
    onnx.checker.check_model(str(imported["folder"] / "model.onnx"))
    large = [n.attribute[0].t.raw_data for n in model.graph.node if n.op_type == "Constant"
             and n.attribute[0].name == "value" and len(n.attribute[0].t.raw_data) >= 1024]
    assert len(large) == len(set(large))  # one copy of each rotary table, not one per use


def test_manifest_version_is_the_content_hash_and_every_file_has_its_sha256(imported):
    man, folder = imported["manifest"], imported["folder"]
    assert man["schema"] == SCHEMA == "imf-model/3" and man["id"] == folder.name
    assert check_files(folder, man) == []
    files = [f["name"] for f in man["files"]]
    assert files == ["model.onnx", "model.onnx.data"] and man["graph"] == "model.onnx"
    whole = hashlib.sha256(b"".join((folder / f).read_bytes() for f in files)).hexdigest()
    assert man["content_sha256"] == whole and man["version"] == whole[:16]
    assert man["seconds_per_image"]["seconds"] > 0


def test_a_changed_weight_file_fails_the_file_check(imported, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(imported["folder"], copy)
    with open(copy / "model.onnx.data", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02\x03")
    problems = check_files(copy, imported["manifest"])
    assert any(p.startswith("model.onnx.data: sha256") for p in problems)
    assert any("is not the content hash" in p for p in problems)


def test_manifest_describes_an_rgb_latent_model_with_imagenet_classes(imported):
    man = imported["manifest"]
    assert man["nfe"] == imported["nfe"]
    assert man["image"] == {"channels": 3, "height": 64, "width": 64, "color": "rgb"}
    assert man["noise"]["shape"] == [4, 8, 8] and man["noise"]["generator"] == "xoshiro128ss-boxmuller/1"
    assert man["classes"] == imagenet_class_names() and man["null_class"] == 1000
    assert man["classes"][207] == "Golden Retriever"
    assert man["guidance"] == {"min": 1.0, "max": 12.0, "default": 8.0}
    assert man["interval"]["default"] == [0.4, 0.65]
    assert [i["name"] for i in man["inputs"]] == ["noise", "class", "guidance", "t_min", "t_max"]
    assert man["inputs"][0]["shape"] == ["batch", 4, 8, 8]
    assert man["outputs"][0] == {**man["outputs"][0], "name": "image", "dtype": "uint8",
                                 "shape": ["batch", 64, 64, 3], "layout": "NHWC"}
    assert man["parity"]["latent_denormalization"] == {"mean": list(LATENT_MEAN),
                                                        "std": list(LATENT_STD)}
    assert man["source"]["kind"] == "a checkpoint in the official iMF format (Lyy-iiis/imeanflow)"
    assert "published" not in man  # no published figure for a size that was never released


def test_manifest_is_valid_against_the_contract_schema(imported):
    assert schema_errors(imported["manifest"]) == []


@pytest.mark.parametrize("change", [
    lambda m: m["files"][1].pop("sha256"),
    lambda m: m["inputs"].reverse(),
    lambda m: m["outputs"][0].update(dtype="float32"),
    lambda m: m.update(colour="red"),
], ids=["file-without-sha256", "inputs-out-of-order", "float-pixels", "unknown-field"])
def test_the_contract_schema_refuses_an_imported_manifest_off_the_contract(imported, change):
    man = json.loads(json.dumps(imported["manifest"]))
    change(man)
    assert schema_errors(man) != []


def test_imagenet_class_names_are_unique_even_as_slugs():
    import re
    names = imagenet_class_names()
    slugs = [re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-") for n in names]
    assert len(names) == 1000 and len(set(slugs)) == 1000
    assert names[388] == "giant panda" and (names[657], names[744]) == ("missile", "projectile")


def test_graph_has_the_contract_inputs_and_a_dynamic_batch(imported):
    graph = session(imported["folder"] / "model.onnx", 1)
    assert {i.name: (i.type, i.shape) for i in graph.get_inputs()} == {
        "noise": ("tensor(float)", ["batch", 4, 8, 8]), "class": ("tensor(int64)", ["batch"]),
        "guidance": ("tensor(float)", ["batch"]), "t_min": ("tensor(float)", ["batch"]),
        "t_max": ("tensor(float)", ["batch"])}
    assert [(o.name, o.type, o.shape) for o in graph.get_outputs()] == [
        ("image", "tensor(uint8)", ["batch", 64, 64, 3])]


# -- ONNX against PyTorch -----------------------------------------------------------------------

def sampler_of(imported):
    return LatentSampler(imported["net"], imported["vae"], LATENT_MEAN, LATENT_STD,
                         imported["nfe"]).eval()


class DecodedFloats(torch.nn.Module):
    """The merged graph's arithmetic before rounding: sampler and decoder, float image out."""

    def __init__(self, sampler):
        super().__init__()
        self.sampler = sampler

    def forward(self, *inputs):
        return self.sampler.decode(self.sampler.latent(*inputs))


def test_graph_arithmetic_matches_pytorch_before_rounding(imported, tmp_path):
    floats = DecodedFloats(sampler_of(imported))
    export_graph(floats, tuple(feeds(2, seed=0).values()), tmp_path, "float.onnx",
                 ["noise", "class", "guidance", "t_min", "t_max"], ["image"])
    f = feeds(3, seed=3)
    got = session(tmp_path / "float.onnx", 1).run(None, as_numpy(f))[0]
    with torch.no_grad():
        expected = floats(*f.values()).numpy()
    assert got.shape == (3, 3, 64, 64) and np.abs(got - expected).max() <= TOLERANCE


def test_pixels_follow_the_official_sampler_and_rounding(imported):
    """The sampler is method.py's (z <- z - h u over t from 1 to 0), decoded as the official
    evaluate.py does: VAE.decode(latent * std + mean), (x + 1) / 2, round(clip(* 255)), HWC."""
    f = feeds(3, seed=1)
    got = session(imported["folder"] / "model.onnx", 1).run(None, as_numpy(f))[0]
    net, nfe = imported["net"], imported["nfe"]
    with torch.no_grad():
        z = f["noise"]
        for _ in range(nfe):
            z = z - (1 / nfe) * net.u(z, torch.full((3,), 1 / nfe), f["guidance"], f["t_min"],
                                      f["t_max"], f["class"])
        x = imported["vae"].decode(z * torch.tensor(LATENT_STD).view(1, 4, 1, 1)
                                   + torch.tensor(LATENT_MEAN).view(1, 4, 1, 1)).sample
    official = np.round(np.clip((x.numpy().transpose(0, 2, 3, 1) + 1) / 2 * 255, 0, 255))
    diff = np.abs(got.astype(np.int16) - official.astype(np.int16))
    assert got.dtype == np.uint8 and got.shape == (3, 64, 64, 3)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert 20 < got.std() and (got == 0).mean() < 0.2 and (got == 255).mean() < 0.2


@pytest.mark.parametrize("batch", [1, 5])
def test_served_pixels_equal_pytorchs_within_one_level(imported, batch):
    f = feeds(batch, seed=11 + batch)
    got = session(imported["folder"] / "model.onnx", 1).run(None, as_numpy(f))[0]
    with torch.no_grad():
        expected = sampler_of(imported)(*f.values()).numpy()
    diff = np.abs(got.astype(np.int16) - expected.astype(np.int16))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


# -- the reference ------------------------------------------------------------------------------

def test_reference_pixels_are_what_the_served_graph_produces_for_each_seed(imported):
    folder, man = imported["folder"], imported["manifest"]
    ref = json.loads((folder / "reference.json").read_text())
    assert ref["model_version"] == man["version"] and ref["pixels"]["layout"] == "HWC"
    assert len(ref["requests"]) == len(REFERENCE_REQUESTS)
    graph = session(folder / "model.onnx", 1)
    for req in ref["requests"]:
        pixels = graph.run(None, {"noise": batch_noise([req["seed"]], (4, 8, 8)).numpy(),
                                  "class": np.array([req["class"]], np.int64),
                                  "guidance": np.array([req["guidance"]], np.float32),
                                  "t_min": np.array([req["t_min"]], np.float32),
                                  "t_max": np.array([req["t_max"]], np.float32)})[0].ravel()
        raw = base64.b64decode(req["pixels_base64"])
        assert hashlib.sha256(raw).hexdigest() == req["pixels_sha256"] and len(raw) == 64 * 64 * 3
        diff = np.abs(pixels.astype(np.int16) - np.frombuffer(raw, np.uint8).astype(np.int16))
        assert diff.max() <= 1 and (diff > 0).sum() <= 10
    assert {r["class"] for r in ref["requests"]} >= {207, 1000}
    assert any(r["guidance"] == 12.0 for r in ref["requests"])


def test_importing_the_same_files_again_gives_the_same_version_and_pixels(sources, imported,
                                                                          tmp_path):
    checkpoint, vae, latent_size = sources
    out = tmp_path / "again"
    assert run_import("--checkpoint", checkpoint, "--vae", vae, "--id", "again", "--out", out,
                      "--latent-size", latent_size, "--nfe", imported["nfe"]) == 0
    again = json.loads((out / "model.json").read_text())
    assert again["version"] == imported["manifest"]["version"]
    first = json.loads((imported["folder"] / "reference.json").read_text())["requests"]
    assert [r["pixels_sha256"] for r in json.loads((out / "reference.json").read_text())["requests"]] \
        == [r["pixels_sha256"] for r in first]


def test_card_names_the_source_and_says_what_ran(imported):
    card = (imported["folder"] / "MODEL_CARD.md").read_text()
    man = imported["manifest"]
    assert man["version"] in card and man["source"]["checkpoint"]["sha256"] in card
    assert "Imported on a CPU only" in card and "Not run here" in card


def test_card_of_a_published_size_quotes_the_papers_fid_as_the_papers(imported, tmp_path):
    man = json.loads(json.dumps(imported["manifest"]))
    man["source"]["kind"] = "a checkpoint in the official iMF format (Lyy-iiis/imeanflow)"
    man["published"] = {**imp.PUBLISHED[("B/2", 1)], "omega": 8.0, "interval": [0.4, 0.65]}
    write_card(tmp_path / "card.md", man)
    card = (tmp_path / "card.md").read_text()
    assert "**3.39** in the paper" in card and "not measured here" in card
    assert "RANDOM" not in card


# -- options, paths and the VAE folder ------------------------------------------------------------

def test_tiny_builds_a_servable_folder_named_after_it(tmp_path):
    out = tmp_path / "imf-fixture"
    assert imp.main(["--tiny", "--out", str(out), "--threads", "1", "--quiet"]) == 0
    man = json.loads((out / "model.json").read_text())
    assert man["id"] == "imf-fixture" and check_files(out, man) == []
    assert man["source"]["kind"].startswith("random weights")
    assert "RANDOM WEIGHTS" in (out / "MODEL_CARD.md").read_text()
    assert (out / "samples.png").stat().st_size > 1000


def test_defaults_can_be_set_at_import_and_are_checked(sources, tmp_path, capsys):
    checkpoint, vae, latent_size = sources
    out = tmp_path / "custom"
    assert run_import("--checkpoint", checkpoint, "--vae", vae, "--id", "custom", "--out", out,
                      "--latent-size", latent_size, "--omega", "4", "--t-min", "0.3",
                      "--t-max", "0.7") == 0
    man = json.loads((out / "model.json").read_text())
    assert man["guidance"]["default"] == 4.0 and man["interval"]["default"] == [0.3, 0.7]
    assert man["defaults_source"] == "set at import"
    assert run_import("--checkpoint", checkpoint, "--vae", vae, "--id", "bad", "--out",
                      tmp_path / "bad", "--latent-size", latent_size, "--omega", "20") == 2
    assert "--omega 20.0 is outside [1, --guidance-max 12.0]" in capsys.readouterr().err


def test_model_id_must_be_url_safe(tmp_path, capsys):
    assert imp.main(["--tiny", "--out", str(tmp_path / "Bad_Name"), "--quiet"]) == 2
    assert "model id 'Bad_Name'" in capsys.readouterr().err


def test_relative_paths_under_npm_are_taken_from_where_npm_started(monkeypatch, tmp_path):
    from imf.paths import user_path
    monkeypatch.setenv("INIT_CWD", str(tmp_path))
    assert user_path("ck/iMF-B-2.pth") == tmp_path / "ck/iMF-B-2.pth"
    assert user_path("/abs/x.pth").as_posix() == "/abs/x.pth"


def test_a_grayscale_vae_gives_a_one_channel_image(sources, tmp_path):
    checkpoint, _, latent_size = sources
    write_vae(tmp_path / "gray", {**TINY_VAE_CONFIG, "out_channels": 1})
    out = tmp_path / "gray-model"
    assert run_import("--checkpoint", checkpoint, "--vae", tmp_path / "gray", "--id", "gray",
                      "--out", out, "--latent-size", latent_size) == 0
    man = json.loads((out / "model.json").read_text())
    assert man["image"]["color"] == "grayscale" and man["image"]["channels"] == 1
    assert man["outputs"][0]["shape"] == ["batch", 64, 64, 1]


def test_vae_with_legacy_attention_names_in_a_bin_file_loads(tmp_path):
    write_vae(tmp_path / "a", TINY_VAE_CONFIG, seed=5)
    write_vae(tmp_path / "b", TINY_VAE_CONFIG, seed=5, legacy_names=True, file_format="bin")
    assert any(".query." in k for k in torch.load(tmp_path / "b/diffusion_pytorch_model.bin"))
    a, _, _ = load_vae(tmp_path / "a")
    b, _, path = load_vae(tmp_path / "b")
    assert path.name == "diffusion_pytorch_model.bin"
    for (k, va), (_, vb) in zip(a.decoder.state_dict().items(), b.decoder.state_dict().items()):
        assert torch.equal(va, vb), k


def test_vae_without_its_encoder_loads(tmp_path):
    from safetensors.torch import load_file, save_file
    write_vae(tmp_path / "v", TINY_VAE_CONFIG)
    path = tmp_path / "v/diffusion_pytorch_model.safetensors"
    save_file({k: v for k, v in load_file(path).items() if not k.startswith(("encoder.", "quant_conv."))}, path)
    load_vae(tmp_path / "v")


@pytest.mark.parametrize("damage, phrase", [
    ("drop", "missing key(s) 'decoder.conv_out.bias'"),
    ("extra", "unexpected key(s) 'decoder.extra.weight'"),
    ("shape", "mis-shaped key(s) 'decoder.conv_in.bias (3,) (expected (16,))'"),
    ("class", "describes a UNet2DModel, not an AutoencoderKL"),
    ("weights", "has no diffusion_pytorch_model.safetensors or diffusion_pytorch_model.bin"),
    ("config", "config.json not found"),
])
def test_a_damaged_vae_folder_is_refused_naming_the_problem(tmp_path, damage, phrase):
    from safetensors.torch import load_file, save_file
    folder = tmp_path / "v"
    write_vae(folder, TINY_VAE_CONFIG)
    weights = folder / "diffusion_pytorch_model.safetensors"
    state = load_file(weights)
    if damage == "drop":
        del state["decoder.conv_out.bias"]
    elif damage == "extra":
        state["decoder.extra.weight"] = torch.zeros(2)
    elif damage == "shape":
        state["decoder.conv_in.bias"] = torch.zeros(3)
    save_file(state, weights)
    if damage == "class":
        (folder / "config.json").write_text(json.dumps({**TINY_VAE_CONFIG, "_class_name": "UNet2DModel"}))
    elif damage == "weights":
        weights.unlink()
    elif damage == "config":
        (folder / "config.json").unlink()
    with pytest.raises((CheckpointFormatError, FileNotFoundError), match=phrase.replace("(", r"\(").replace(")", r"\)")):
        load_vae(folder)


def test_a_vae_whose_latents_do_not_fit_the_checkpoint_is_refused(sources, tmp_path, capsys):
    checkpoint, _, latent_size = sources
    write_vae(tmp_path / "v8", {**TINY_VAE_CONFIG, "latent_channels": 8})
    assert run_import("--checkpoint", checkpoint, "--vae", tmp_path / "v8", "--id", "x", "--out",
                      tmp_path / "x", "--latent-size", latent_size) == 2
    assert "the VAE's latents have 8 channels, the checkpoint's 4" in capsys.readouterr().err
