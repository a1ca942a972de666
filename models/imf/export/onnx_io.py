"""ONNX export of a served graph: an imported model's with its weights in ONE external-data file
beside it (`<graph>.data`), whatever the size (protobuf cannot hold a graph over 2 GiB; XL/2 is
2.3 GB, and one layout for every imported size means the worker's external-data path is the one
every test runs); a trained pixel model's (a few MB, committed) as one file. Plus the onnxruntime
session the parity checks, references and benchmark use."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 17
INLINE_BELOW = 1024  # bytes: tensors smaller than this stay inside the graph


def export_graph(module: nn.Module, args: tuple, folder: Path, graph: str,
                 input_names: list[str], output_names: list[str],
                 external_data: bool = True) -> list[str]:
    """Write folder/graph (+ folder/graph.data unless external_data is False); batch (axis 0) is
    dynamic on every input and output. Returns the file names written, graph first."""
    import onnx

    folder = Path(folder)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        # the exporter itself spills a >2 GiB graph into one file per tensor; it writes into a
        # scratch folder and onnx re-saves the graph with all weights in one file
        scratch = Path(tmp) / graph
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, str(scratch), input_names=input_names,
                              output_names=output_names,
                              dynamic_axes={k: {0: "batch"} for k in input_names + output_names},
                              opset_version=OPSET, dynamo=False)
        model = onnx.load(str(scratch), load_external_data=True)
        share_constants(model)
        return save_graph(model, folder, graph, external_data)


def save_graph(model, folder: Path, graph: str, external_data: bool = True) -> list[str]:
    """Write an ONNX model as folder/graph (+ folder/graph.data, every tensor of INLINE_BELOW bytes
    or more in that one file, unless external_data is False). Returns the file names, graph first."""
    import onnx

    folder = Path(folder)
    data = graph + ".data"
    for stale in (folder / graph, folder / data):
        stale.unlink(missing_ok=True)
    onnx.save_model(model, str(folder / graph), save_as_external_data=external_data,
                    all_tensors_to_one_file=True, location=data, size_threshold=INLINE_BELOW)
    names = [graph] + ([data] if (folder / data).is_file() else [])
    for name in names:  # onnx creates the data file owner-only; a worker may run as another user
        (folder / name).chmod(0o644)
    return names


def share_constants(model) -> int:
    """Keep one copy of each large Constant that the exporter repeated (it inlines a buffer,
    such as the rotary tables, once per use: 4 per block). Returns how many were dropped."""
    import hashlib

    first: dict[bytes, str] = {}
    rename: dict[str, str] = {}
    kept = []
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            t = node.attribute[0].t
            if len(t.raw_data) >= INLINE_BELOW:
                key = hashlib.sha256(bytes([t.data_type]) + str(list(t.dims)).encode()
                                     + t.raw_data).digest()
                if key in first:
                    rename[node.output[0]] = first[key]
                    continue
                first[key] = node.output[0]
        kept.append(node)
    if rename:
        for node in kept:
            for i, name in enumerate(node.input):
                node.input[i] = rename.get(name, name)
        del model.graph.node[:]
        model.graph.node.extend(kept)
    return len(rename)


def session(path: Path, threads: int | None = None, provider: str = "cpu"):
    """An onnxruntime session on `path` (external data is read from beside it)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    providers = (["CUDAExecutionProvider", "CPUExecutionProvider"] if provider == "cuda"
                 else ["CPUExecutionProvider"])
    return ort.InferenceSession(str(path), opts, providers=providers)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"unknown CPU ({os.cpu_count()} cores)"
