"""Half precision for an imported graph (`--precision fp16`): the float32 graph, once checked
against PyTorch, rewritten so that its weights are float16 and the network and the VAE decoder
compute in float16 on the GPU (the pixel rounding, the normalisations' statistics and the scalar
embeddings stay float32),
with the graph's inputs and output unchanged (float32 and int64 in, uint8 out), so the manifest's
contract and the worker do not change; and the measure of its pixels against float32's.

The rewrite is onnxruntime's own float16 converter (onnxruntime.transformers.float16, in the
onnxruntime wheel), which puts a Cast wherever a float16 part meets a float32 one. bfloat16 is not
offered: onnxruntime's CPU provider has no bfloat16 kernels at all (not even Add or MatMul) and
ONNX admits no bfloat16 Conv before opset 22, so such a graph could not be run or checked here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imf.export import checks, onnx_io
from imf.export.checks import pixel_diff

# --precision: the graph's compute type by its command-line name.
PRECISIONS = {"fp32": "float32", "fp16": "float16"}

# Op types kept float32 besides the pixel rounding (pixel_rounding) and FLOAT32_MODULES: the
# normalisations' statistics (imfDiT's RMSNorm exports as Pow, ReduceMean, Add, Sqrt, Div; the
# VAE's GroupNorm as InstanceNormalization), where a sum of squares overflows float16's 65504
# once activations pass 256. Random weights cannot show that (their activations stay near 1;
# there, keeping them float32 moved slightly more values by one level: models/README.md, "Half
# precision"); a trained network's residual stream can, and these few element-wise ops cost little.
FLOAT32_OPS = ("Pow", "ReduceMean", "Sqrt", "InstanceNormalization")

# Modules kept float32 (imfDiT's attribute names, which the exporter writes into their nodes'
# names: "/h_embed/..."): the scalar embeddings of h, omega, t_min and t_max, two small Gemm each.
# In float16, onnxruntime's CPU provider gives their Gemm results that depend on the batch size,
# so a 2-NFE request's pixels moved by one level in up to 5.6% of values with the requests it
# shared a batch with (tiny import, models/README.md); an image must be the same whatever its batch.
FLOAT32_MODULES = ("h_embed", "omega_embed", "t_min_embed", "t_max_embed")

# The largest float16 difference an import accepts, on the reference requests' 8-bit pixels
# against the float32 PyTorch graph: a mean difference of at most one level and a PSNR of at least
# 35 dB. The float16 rounding itself gives about 0.09 levels and 59 dB (random B/2 and tiny,
# models/README.md); an overflow, which moves whole regions, falls far outside.
HALF_TOLERANCE = {"mean_abs_max": 1.0, "psnr_db_min": 35.0}


class HalfPrecisionFailure(RuntimeError):
    """The float16 graph is further from float32 than HALF_TOLERANCE allows."""


def pixel_rounding(model) -> list[str]:
    """Names of the nodes from the VAE decoder's output to the graph's uint8 image (with the
    constants they take), graphs.to_pixels, which stay float32: rounding to 8 bits needs more than
    float16's 11 significant bits (its spacing is 0.125 from 128 to 255). They are the nodes the
    exporter names outside every module ("/Round", not "/decoder/conv_out/Conv"), met walking back
    from the output until a module's node."""
    producer = {out: node for node in model.graph.node for out in node.output}
    outside_modules = lambda node: node.name.count("/") <= 1  # noqa: E731 ("/Round", "Constant_7")
    found, todo = [], [producer[o.name] for o in model.graph.output if o.name in producer]
    while todo:
        node = todo.pop()
        if node.name in found or not outside_modules(node):
            continue
        found.append(node.name)
        todo += [producer[i] for i in node.input if i in producer]
    return found


def module_nodes(model, modules) -> list[str]:
    """Names of the nodes inside any of `modules` (by the exporter's "/<module>/..." names)."""
    prefixes = tuple(f"/{m}/" for m in modules)
    return [n.name for n in model.graph.node if n.name.startswith(prefixes)]


def write_float16(source: Path, folder: Path, graph: str, float32_ops=FLOAT32_OPS,
                  float32_modules=FLOAT32_MODULES) -> list[str]:
    """The float32 graph at `source` (with its external data beside it) as folder/graph in float16
    where it holds, in onnx_io's layout (one .data file). Returns the file names, graph first."""
    import onnx
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    source = Path(source)
    # the converter's node list needs the node names, read without the weights
    structure = onnx.load(str(source), load_external_data=False)
    keep = pixel_rounding(structure) + module_nodes(structure, float32_modules)
    # given a path, the converter infers shapes on the file (which works above 2 GiB) in its folder
    model = convert_float_to_float16(str(source), keep_io_types=True,
                                     op_block_list=[*DEFAULT_OP_BLOCK_LIST, *float32_ops],
                                     node_block_list=keep)
    return onnx_io.save_graph(model, folder, graph)


def pixel_difference(got: np.ndarray, expected: np.ndarray) -> dict:
    """How far 8-bit pixels are from others: checks.pixel_diff's largest difference and count of
    values that differ, their share, the mean absolute difference in levels and the PSNR in dB
    (absent when the pixels are equal)."""
    diff = pixel_diff(got, expected)
    d = got.astype(np.float64) - expected.astype(np.float64)
    mse = float(np.mean(d * d))
    result = {**diff, "share": round(diff["differing"] / diff["values"], 6),
              "mean_abs": round(float(np.abs(d).mean()), 4)}
    if mse > 0:
        result["psnr_db"] = round(float(10 * np.log10(255.0 ** 2 / mse)), 2)
    return result


def check_difference(diff: dict, tolerance: dict | None = None) -> None:
    """Raise HalfPrecisionFailure when the float16 pixels are further from float32's than allowed
    (HALF_TOLERANCE unless `tolerance` says otherwise)."""
    tolerance = tolerance or HALF_TOLERANCE
    if (diff["mean_abs"] > tolerance["mean_abs_max"]
            or diff.get("psnr_db", float("inf")) < tolerance["psnr_db_min"]):
        raise HalfPrecisionFailure(
            f"the float16 graph's pixels are too far from float32's on the reference requests "
            f"({diff}; allowed: mean difference at most {tolerance['mean_abs_max']} levels, "
            f"PSNR at least {tolerance['psnr_db_min']} dB); import with --precision fp32")


def reference(sampler, session, requests: list[dict], noise_shape: tuple
              ) -> tuple[dict, dict, float, dict]:
    """For a float16 graph: reference.json's content, whose pixels are this graph's own (each
    request alone; onnxruntime's CPU provider), its one-batch parity against them (raises
    ParityFailure), its median seconds per image, and its difference from the float32 PyTorch
    graph's pixels (raises HalfPrecisionFailure beyond HALF_TOLERANCE)."""
    expected = checks.torch_pixels(sampler, requests, noise_shape)
    alone, batched, seconds = checks.graph_pixels(session, requests, noise_shape)
    n = len(requests)
    result = {"one_batch": pixel_diff(batched.reshape(n, -1), alone.reshape(n, -1))}
    checks.check_pixels("reference requests in one batch (float16)", result["one_batch"],
                        against="the same requests' alone")
    against = pixel_difference(alone, expected)
    check_difference(against)
    content = checks.reference_content(
        requests, alone, [{"float32_pixel_diff": pixel_difference(a, e)}
                          for a, e in zip(alone, expected)])
    return content, result, seconds, against


def manifest_precision(compute: str, against_float32: dict | None = None,
                       requests: int = 0) -> dict:
    """model.json's `precision`: what the graph computes in and, for float16, what stays float32
    and how far its pixels are from float32's."""
    if compute == "float32":
        return {"compute": "float32"}
    return {"compute": compute,
            "float32_parts": ["the pixel rounding (decoder output to uint8)",
                              f"the normalisations' statistics ({', '.join(FLOAT32_OPS)})",
                              f"the scalar embeddings ({', '.join(FLOAT32_MODULES)})"],
            "against_float32": {**against_float32, "requests": requests,
                                "provider": "CPUExecutionProvider",
                                "measured": "at import: this graph's 8-bit pixels on the reference "
                                            "requests against the float32 PyTorch graph's"},
            "tolerance": HALF_TOLERANCE}
