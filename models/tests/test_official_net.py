"""The official checkpoint format and its name map onto the one network: official state-dict names
and shapes, size read from the checkpoint, strict loading with errors that name the key, and the
official math (pair rotation, fused projections, the patch convolution) through imfDiT."""

import os
import sys
from pathlib import Path

import pytest
import torch

from imf.export import official_net as on
from imf.export.import_official import main
from imf.core.network import ImfDiT, apply_rotary, rotary_tables
from imf.export.graphs import sample
from imf.export.random_official import TINY, full_size, random_state, write_checkpoint

# The state dict of the official iMF-B/2 in inference mode (Lyy-iiis/imeanflow, branch torch:
# iMeanFlow("imfDiT_B_2").state_dict()), checked by hand against the official code: every key
# once, block indices folded to N. Shapes are (out, in) as torch stores them.
B2_GLOBAL = {
    "net.time_tokens": (4, 768), "net.class_tokens": (8, 768), "net.omega_tokens": (4, 768),
    "net.t_min_tokens": (2, 768), "net.t_max_tokens": (2, 768),
    "net.x_embedder.proj.weight": (768, 4, 2, 2), "net.x_embedder.proj.bias": (768,),
    "net.y_embedder.embedding_table._flax_embedding.weight": (1001, 768),
    "net.u_final_layer.norm.weight": (768,),
    "net.u_final_layer.linear._flax_linear.weight": (16, 768),
    "net.u_final_layer.linear._flax_linear.bias": (16,),
    "net.v_final_layer.norm.weight": (768,),
    "net.v_final_layer.linear._flax_linear.weight": (16, 768),
    "net.v_final_layer.linear._flax_linear.bias": (16,),
}
for _emb in ("h_embedder", "omega_embedder", "cfg_t_start_embedder", "cfg_t_end_embedder"):
    B2_GLOBAL.update({f"net.{_emb}.mlp.0._flax_linear.weight": (768, 256),
                      f"net.{_emb}.mlp.0._flax_linear.bias": (768,),
                      f"net.{_emb}.mlp.2._flax_linear.weight": (768, 768),
                      f"net.{_emb}.mlp.2._flax_linear.bias": (768,)})
B2_BLOCK = {
    "attn_scale": (768,), "mlp_scale": (768,), "norm1.weight": (768,), "norm2.weight": (768,),
    "attn.q_proj._flax_linear.weight": (768, 768), "attn.k_proj._flax_linear.weight": (768, 768),
    "attn.v_proj._flax_linear.weight": (768, 768), "attn.out_proj._flax_linear.weight": (768, 768),
    "attn.q_norm.weight": (64,), "attn.k_norm.weight": (64,),
    "mlp.w1._flax_linear.weight": (2048, 768), "mlp.w3._flax_linear.weight": (2048, 768),
    "mlp.w2._flax_linear.weight": (768, 2048),
}
# parameter counts of the official models (the whole state dict, v_final_layer included)
OFFICIAL_PARAMETERS = {"B/2": 88_948_256, "M/2": 173_921_312, "L/2": 409_071_648,
                       "XL/2": 610_433_056}


def meta_state(cfg):
    return {k: torch.empty(shape, device="meta") for k, shape in on.official_shapes(cfg).items()}


def network(state, latent_size=8):
    cfg = on.infer_config(state, latent_size)
    on.check_official(state, cfg)
    net = ImfDiT(cfg)
    net.load_state_dict(on.to_network_state(state, cfg), strict=True)
    return net.eval()


def tiny_state(seed=0):
    return random_state(TINY, seed)


def test_b2_state_dict_has_the_official_names_and_shapes():
    expected = dict(B2_GLOBAL)
    for group, depth in (("shared_blocks", 4), ("u_heads", 8)):
        for i in range(depth):
            expected.update({f"net.{group}.{i}.{k}": s for k, s in B2_BLOCK.items()})
    got = {k: tuple(v.shape) for k, v in meta_state(full_size("B/2")).items()}
    assert got == expected
    assert not any(k.startswith("net.v_heads.") for k in got)  # the published files have none


@pytest.mark.parametrize("size", list(OFFICIAL_PARAMETERS))
def test_each_published_size_has_the_official_parameter_count_and_is_recognised(size):
    state = meta_state(full_size(size))
    assert sum(v.numel() for v in state.values()) == OFFICIAL_PARAMETERS[size]
    cfg = on.infer_config(state)
    assert on.size_name(cfg) == size and cfg == full_size(size)
    assert cfg.num_heads == cfg.hidden_size // 64 and cfg.prefix_tokens == 20
    assert cfg.mlp_hidden == {768: 2048, 1024: 2730}[cfg.hidden_size]


def test_size_is_read_from_the_checkpoint():
    cfg = on.infer_config(tiny_state(), latent_size=8)
    assert cfg == TINY
    assert (cfg.head_dim, cfg.num_heads, cfg.num_patches, cfg.null_class) == (64, 2, 16, 1000)
    assert not cfg.aux_head and not cfg.pos_embed and cfg.frequency_dim == 256
    assert on.size_name(cfg) is None


def test_rotating_halves_of_the_mapped_features_equals_the_official_complex_rotation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 36, 2, 64, generator=g)  # [B, T, heads, D] in the official feature order
    cos, sin = rotary_tables(64, 36)
    # the official formulation: adjacent pairs as complex numbers times e^(i * angle)
    freqs = torch.complex(cos, sin)[None, :, None]  # [1, T, 1, 32]
    official = torch.view_as_real(torch.view_as_complex(x.reshape(2, 36, 2, 32, 2)) * freqs)
    order = on.pairs_to_halves(64)
    ours = apply_rotary(x[..., order].transpose(1, 2), cos, sin).transpose(1, 2)
    assert torch.allclose(ours, official.reshape(x.shape)[..., order], atol=1e-6)


def test_the_mapped_patch_embedding_is_the_official_convolution():
    state = tiny_state()
    net = network(state)
    z = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(4))
    conv = torch.nn.functional.conv2d(z, state["net.x_embedder.proj.weight"],
                                      state["net.x_embedder.proj.bias"], stride=2)
    with torch.no_grad():
        assert torch.allclose(net.patch_tokens(z), conv.flatten(2).transpose(1, 2), atol=1e-5)


def test_the_network_of_an_official_checkpoint_has_no_v_head():
    net = network(tiny_state())
    assert not any(k.startswith(("v_head.", "v_out.")) for k in net.state_dict())
    with pytest.raises(ValueError, match="no auxiliary v head"):
        net.v(torch.zeros(1, 4, 8, 8), *torch.ones(4, 1), torch.zeros(1, dtype=torch.long))


def test_random_weights_give_a_nonzero_average_velocity_that_depends_on_every_input():
    net = network(tiny_state())
    g = torch.Generator().manual_seed(1)
    args = dict(z=torch.randn(2, 4, 8, 8, generator=g), h=torch.ones(2),
                omega=torch.tensor([4.0, 4.0]), t_min=torch.tensor([0.2, 0.2]),
                t_max=torch.tensor([0.8, 0.8]), y=torch.tensor([3, 3]))
    with torch.no_grad():
        base = net.u(**args)
        assert base.abs().mean() > 0.1
        for name, other in (("h", torch.full((2,), 0.5)), ("omega", torch.tensor([8.0, 8.0])),
                            ("t_min", torch.zeros(2)), ("t_max", torch.ones(2)),
                            ("y", torch.tensor([1000, 1000]))):
            assert not torch.allclose(net.u(**{**args, name: other}), base), name


def test_two_nfe_sampler_is_two_half_steps_and_one_nfe_a_full_step():
    net = network(tiny_state())
    g = torch.Generator().manual_seed(2)
    z = torch.randn(3, 4, 8, 8, generator=g)
    cond = (torch.tensor([1.0, 4.0, 12.0]), torch.tensor([0.0, 0.3, 0.4]),
            torch.tensor([1.0, 0.7, 0.65]))
    y = torch.tensor([0, 207, 1000])
    with torch.no_grad():
        one = sample(net, z, y, *cond, nfe=1)
        assert torch.equal(one, z - net.u(z, torch.ones(3), *cond, y))
        half = torch.full((3,), 0.5)
        mid = z - 0.5 * net.u(z, half, *cond, y)
        assert torch.allclose(sample(net, z, y, *cond, nfe=2),
                              mid - 0.5 * net.u(mid, half, *cond, y), atol=1e-6)


# -- strict loading -------------------------------------------------------------------------------

def load_error(state) -> str:
    with pytest.raises(on.CheckpointFormatError) as err:
        on.check_official(state, on.infer_config(state, 8))
    return str(err.value)


def test_a_missing_key_is_named():
    state = tiny_state()
    del state["net.u_heads.1.attn.k_norm.weight"]
    assert "missing key(s) 'net.u_heads.1.attn.k_norm.weight'" in load_error(state)


def test_an_unexpected_key_is_named():
    state = tiny_state()
    state["net.v_heads.0.norm1.weight"] = torch.ones(128)
    assert "unexpected key(s) 'net.v_heads.0.norm1.weight'" in load_error(state)


def test_a_misshaped_key_is_named_with_both_shapes():
    state = tiny_state()
    state["net.u_final_layer.linear._flax_linear.bias"] = torch.zeros(12)
    msg = load_error(state)
    assert "mis-shaped key(s) 'net.u_final_layer.linear._flax_linear.bias (12,) (expected (16,))'" in msg


def test_keys_without_the_net_prefix_are_refused_naming_the_key():
    state = {k.removeprefix("net."): v for k, v in tiny_state().items()}
    with pytest.raises(on.CheckpointFormatError, match="missing key 'net.x_embedder.proj.weight'"):
        on.infer_config(state)


@pytest.mark.parametrize("content, phrase", [
    (b"this is not a checkpoint\n", "not a state dict"),
    ("list", "not a state dict: it holds a list"),
    ("wrapped", "looks like a training checkpoint that wraps one"),
])
def test_other_files_are_not_a_state_dict(tmp_path, capsys, content, phrase):
    path = tmp_path / "file.pth"
    if content == "list":
        torch.save([torch.zeros(2)], path)
    elif content == "wrapped":
        torch.save({"model": tiny_state(), "step": torch.tensor(3)}, path)
    else:
        path.write_bytes(content)
    vae = tmp_path / "vae"
    assert main(["--checkpoint", str(path), "--vae", str(vae), "--id", "x", "--out",
                 str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and phrase in err and len(err.strip().splitlines()) == 1


def test_the_importer_reports_a_bad_checkpoint_in_one_line(tmp_path, capsys):
    state = tiny_state()
    del state["net.shared_blocks.0.mlp.w2._flax_linear.weight"]
    torch.save(state, tmp_path / "bad.pth")
    code = main(["--checkpoint", str(tmp_path / "bad.pth"), "--vae", str(tmp_path), "--id", "x",
                 "--out", str(tmp_path / "out"), "--latent-size", "8", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "'net.shared_blocks.0.mlp.w2._flax_linear.weight'" in err
    assert not (tmp_path / "out").exists()


def test_a_checkpoint_round_trips_through_torch_save(tmp_path):
    path = write_checkpoint(tmp_path / "ck.pth", TINY, seed=3)
    net, state = on.load_official(path, latent_size=8)
    assert net.cfg == TINY and set(state) == set(tiny_state())
    assert torch.equal(net.u_head[1].mlp_gate, state["net.u_heads.1.mlp_scale"])


# -- the official code itself (opt-in: IMF_OFFICIAL_REPO=<a checkout of Lyy-iiis/imeanflow, torch>)

OFFICIAL_REPO = os.environ.get("IMF_OFFICIAL_REPO")


@pytest.mark.skipif(not OFFICIAL_REPO, reason="set IMF_OFFICIAL_REPO to a checkout of the official "
                                              "torch branch to compare against it")
@pytest.mark.parametrize("nfe", [1, 2])
def test_the_official_model_with_random_weights_agrees_with_the_imported_graph(tmp_path, nfe):
    import importlib.util

    import numpy as np

    from imf.export.onnx_io import session

    sys.path.append(OFFICIAL_REPO)
    spec = importlib.util.spec_from_file_location("official_imf", Path(OFFICIAL_REPO) / "imf.py")
    official = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(official)
    torch.manual_seed(0)
    dit = official.imfDiT.imfDiT(input_size=8, patch_size=2, in_channels=4, hidden_size=128,
                                 depth=3, num_heads=2, aux_head_depth=2, eval_mode=True)
    wrapper = official.iMeanFlow.__new__(official.iMeanFlow)
    torch.nn.Module.__init__(wrapper)
    wrapper.net, wrapper.img_channels, wrapper.img_size = dit, 4, 8
    wrapper.dtype, wrapper.num_classes = torch.float32, 1000
    with torch.no_grad():  # the official init zeroes gates and final layers: perturb them
        for name, p in wrapper.named_parameters():
            if name.endswith(("_scale", "bias")) or "final_layer" in name:
                p.add_(0.2 * torch.randn_like(p))
    torch.save(wrapper.state_dict(), tmp_path / "official.pth")
    from imf.export.graphs import LatentSampler, to_pixels
    from imf.export.random_official import write_vae
    from imf.export.vae import LATENT_MEAN, LATENT_STD, TINY_VAE_CONFIG, load_vae
    write_vae(tmp_path / "vae", TINY_VAE_CONFIG)
    out = tmp_path / "model"
    assert main(["--checkpoint", str(tmp_path / "official.pth"), "--vae", str(tmp_path / "vae"),
                 "--id", "official", "--out", str(out), "--latent-size", "8", "--nfe", str(nfe),
                 "--threads", "1", "--quiet"]) == 0
    graph = session(out / "model.onnx", 1)
    vae, _, _ = load_vae(tmp_path / "vae")
    decoder = LatentSampler(wrapper.net, vae, LATENT_MEAN, LATENT_STD, nfe).eval()
    z = torch.randn(1, 4, 8, 8)

    class Noise:
        def randn(self, shape):
            return z.clone()

    for y, omega, t_min, t_max in ((207, 8.0, 0.4, 0.65), (1000, 1.0, 0.0, 1.0)):
        with torch.no_grad():  # the official sampler's latent, decoded as the served graph does
            latent = wrapper.generate(1, Noise(), nfe, omega, t_min, t_max, labels=torch.tensor([y]))
            ref = to_pixels(decoder.decode(latent)).numpy()
        got = graph.run(None, {"noise": z.numpy(), "class": np.array([y]),
                               "guidance": np.array([omega], np.float32),
                               "t_min": np.array([t_min], np.float32),
                               "t_max": np.array([t_max], np.float32)})[0]
        diff = np.abs(got.astype(np.int16) - ref.astype(np.int16))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3

