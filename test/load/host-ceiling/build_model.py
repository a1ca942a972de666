"""Builds the host-ceiling benchmark's model folder: NEVER a model to serve.

A graph with the real sampler inputs of the product's 256-px models, the imported ImageNet-256 ones
(noise [B, 4, 32, 32]: a latent, as `npm run model:import` builds them; class, guidance, t_min,
t_max) and a 256x256 RGB image out, that costs well under a millisecond per image: a fixed picture
of smooth noise at four scales (a photograph's spectrum, so its encoding costs what a photograph's
does), grain that the request's noise modulates (each latent value scales a fixed fine pattern over
its 8x8 pixels, so every pixel differs between requests), contrast from the guidance inputs and a
tint per class. It lets
`npm run bench:stack -- --model DIR` measure what the host side (noise, HTTP, encoding, storage)
can carry when a GPU makes inference nearly free. Written to a folder the benchmark makes; the edge
lists it only because the benchmark's stack serves that folder alone.

The image is built in 8-bit levels about mid-grey; the last nodes round, cast and transpose it to
the served format's output (uint8 [B, H, W, C], one graph: imf-model/3, contract/src/manifest.ts).

    .venv/bin/python test/load/host-ceiling/build_model.py OUT_DIR
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EDGE = 256
CHANNELS = 3
# The latent the imported 256-px models take: 4 channels, 8x smaller than the picture.
LATENT_CHANNELS = 4
LATENT_EDGE = 32
CLASSES = [f"bench-{i}" for i in range(10)]
MODEL_ID = "bench-host-ceiling"
# The fixed picture's scales: (grid spacing in pixels, weight); coarse structure dominates, as in
# photographs. GRAIN_LEVELS: the request noise's standard deviation in 8-bit levels.
SCALES = [(64, 0.35), (16, 0.2), (4, 0.08), (1, 0.03)]
GRAIN_LEVELS = 3.0


def photo_like_base() -> np.ndarray:
    """A fixed photo-like picture in 8-bit levels about mid-grey [1, 3, EDGE, EDGE]: smooth noise at four scales."""
    rng = np.random.default_rng(20)
    levels = np.zeros((CHANNELS, EDGE, EDGE), np.float32)
    for block, weight in SCALES:
        coarse = rng.standard_normal((CHANNELS, EDGE // block + 1, EDGE // block + 1)).astype(np.float32)
        # Bilinear upsampling of the coarse grid to EDGE x EDGE.
        at = np.arange(EDGE, dtype=np.float32) / block
        i0 = np.floor(at).astype(int)
        frac = at - i0
        rows = coarse[:, i0, :] * (1 - frac)[None, :, None] + coarse[:, i0 + 1, :] * frac[None, :, None]
        smooth = rows[:, :, i0] * (1 - frac)[None, None, :] + rows[:, :, i0 + 1] * frac[None, None, :]
        levels += weight * 127.5 * smooth
    return levels[None]


def graph() -> onnx.ModelProto:
    nodes, inits = [], []

    def const(name, value, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    # Grain: a fixed fine pattern, each 8x8 block scaled by one of the request's latent values (the
    # first three latent channels, one per colour), so each request's pixels differ everywhere.
    scale = EDGE // LATENT_EDGE
    nodes.append(helper.make_node("Slice", ["noise", const("c0", [0], np.int64), const("c3", [CHANNELS], np.int64),
                                            const("c_axis", [1], np.int64)], ["noise_rgb"]))
    nodes.append(helper.make_node("Resize", ["noise_rgb", "", const("up", [1, 1, scale, scale])], ["noise_up"],
                                  mode="nearest"))
    fine = np.random.default_rng(21).standard_normal((1, CHANNELS, EDGE, EDGE)).astype(np.float32)
    nodes.append(helper.make_node("Mul", ["noise_up", const("fine", fine * GRAIN_LEVELS)], ["grain_levels"]))
    nodes.append(helper.make_node("Add", ["grain_levels", const("base", photo_like_base())], ["centred"]))
    # Contrast from the guidance inputs, so every input takes part: 1 + 0.1 (omega - 1)(t_max - t_min)
    # around mid-grey, and a tint per class (the null class too).
    nodes.append(helper.make_node("Sub", ["t_max", "t_min"], ["width"]))
    nodes.append(helper.make_node("Sub", ["guidance", const("one", 1.0)], ["omega_1"]))
    nodes.append(helper.make_node("Mul", ["omega_1", "width"], ["spread"]))
    nodes.append(helper.make_node("Mul", ["spread", const("tenth", 0.1)], ["spread_10"]))
    nodes.append(helper.make_node("Add", ["spread_10", const("one_b", 1.0)], ["contrast"]))
    nodes.append(helper.make_node("Reshape", ["contrast", const("bshape", [-1, 1, 1, 1], np.int64)], ["contrast_b"]))
    tints = np.random.default_rng(0).uniform(-40, 40, size=(len(CLASSES) + 1, CHANNELS, 1, 1)).astype(np.float32)
    nodes.append(helper.make_node("Gather", [const("tints", tints), "class"], ["tint"], axis=0))
    nodes.append(helper.make_node("Mul", ["centred", "contrast_b"], ["contrasted"]))
    nodes.append(helper.make_node("Add", ["contrasted", "tint"], ["tinted"]))
    # 8-bit levels: shift to 0..255, clip, round (ties to even, as the served graphs round), cast, NCHW -> NHWC.
    nodes.append(helper.make_node("Add", ["tinted", const("mid_grey", 127.5)], ["levels_f"]))
    nodes.append(helper.make_node("Clip", ["levels_f", const("lo", 0.0), const("hi", 255.0)], ["clipped"]))
    nodes.append(helper.make_node("Round", ["clipped"], ["rounded"]))
    nodes.append(helper.make_node("Cast", ["rounded"], ["levels_u8"], to=TensorProto.UINT8))
    nodes.append(helper.make_node("Transpose", ["levels_u8"], ["image"], perm=[0, 2, 3, 1]))

    batch = "batch"
    inputs = [
        helper.make_tensor_value_info("noise", TensorProto.FLOAT, [batch, LATENT_CHANNELS, LATENT_EDGE, LATENT_EDGE]),
        helper.make_tensor_value_info("class", TensorProto.INT64, [batch]),
        helper.make_tensor_value_info("guidance", TensorProto.FLOAT, [batch]),
        helper.make_tensor_value_info("t_min", TensorProto.FLOAT, [batch]),
        helper.make_tensor_value_info("t_max", TensorProto.FLOAT, [batch]),
    ]
    outputs = [helper.make_tensor_value_info("image", TensorProto.UINT8, [batch, EDGE, EDGE, CHANNELS])]
    model = helper.make_model(
        helper.make_graph(nodes, "bench_host_ceiling", inputs, outputs, inits),
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="imf bench (never a model)",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def manifest(sha256: str, size: int) -> dict:
    shape = ["batch", LATENT_CHANNELS, LATENT_EDGE, LATENT_EDGE]
    return {
        "schema": "imf-model/3",
        "id": MODEL_ID,
        # One file: the content hash is the graph's own sha256.
        "version": sha256[:16],
        "content_sha256": sha256,
        "method": "BENCHMARK ONLY, never a model: a fixed picture with grain from the request's latent noise (test/load/host-ceiling/build_model.py)",
        "nfe": 1,
        "image": {"channels": CHANNELS, "height": EDGE, "width": EDGE, "color": "rgb"},
        "graph": "model.onnx",
        "files": [{"name": "model.onnx", "sha256": sha256, "bytes": size}],
        "inputs": [
            {"name": "noise", "dtype": "float32", "shape": shape, "meaning": "N(0, 1) latent noise from the noise generator, one seed per image: modulates the grain"},
            {"name": "class", "dtype": "int64", "shape": ["batch"], "meaning": "class index: picks a tint"},
            {"name": "guidance", "dtype": "float32", "shape": ["batch"], "meaning": "sets the contrast with the interval"},
            {"name": "t_min", "dtype": "float32", "shape": ["batch"], "meaning": "sets the contrast"},
            {"name": "t_max", "dtype": "float32", "shape": ["batch"], "meaning": "sets the contrast"},
        ],
        "outputs": [{"name": "image", "dtype": "uint8", "shape": ["batch", EDGE, EDGE, CHANNELS], "meaning": "a photo-like texture, 8-bit pixels", "layout": "NHWC"}],
        "classes": CLASSES,
        "null_class": len(CLASSES),
        "guidance": {"min": 1.0, "max": 4.0, "default": 2.0},
        "interval": {"default": [0.1, 0.9]},
        "noise": {
            "generator": "xoshiro128ss-boxmuller/1",
            "seed": "uint32",
            "shape": [LATENT_CHANNELS, LATENT_EDGE, LATENT_EDGE],
            "order": "CHW",
            "spec": "models/noise/SPEC.md",
            "test_vectors": "models/noise/test-vectors.json",
        },
    }


CARD = """# bench-host-ceiling: BENCHMARK ONLY, never a model

Built by `test/load/host-ceiling/build_model.py` into a temporary folder for
`npm run bench:stack -- --model DIR`. It takes the imported 256-px models' inputs (a 4x32x32
latent noise), adds grain that the request's noise modulates to a fixed picture of smooth noise and
tints it per class: 256x256 RGB pixels with a photograph's encoding cost, for well under a
millisecond of inference per image. It measures the host side of the stack; it generates nothing anyone should see.
"""


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    data = graph().SerializeToString()
    (out / "model.onnx").write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    (out / "model.json").write_text(json.dumps(manifest(sha256, len(data)), indent=2) + "\n")
    (out / "MODEL_CARD.md").write_text(CARD)
    print(out)


if __name__ == "__main__":
    main()
