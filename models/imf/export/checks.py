"""What every exported or imported graph must pass before its folder is written, and the pixels
it is held to afterwards: onnxruntime against PyTorch on random requests at several batch sizes,
and the reference requests (reference.json), whose pixels the worker's tests compare with what it
serves. Both compare 8-bit pixels: at most 1 level apart, and only in a small share of values
(PyTorch and onnxruntime may round a float differently in the last bits)."""

from __future__ import annotations

import base64
import hashlib
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from imf.core.noise import NAME as NOISE_NAME
from imf.core.noise import batch_noise

PIXEL_TOLERANCE = {"max": 1, "share": 1e-3}

# Requests whose pixels the worker must reproduce. Classes wrap to the model's classes; "null" is
# the unconditional class; None takes the model's default; guidance above the model's maximum is
# clipped to it.
REFERENCE_REQUESTS = [
    {"seed": 0, "class": 207, "guidance": None, "t_min": None, "t_max": None},
    {"seed": 1, "class": 388, "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},
    {"seed": 42, "class": 980, "guidance": 4.0, "t_min": 0.36, "t_max": 0.64},
    {"seed": 1234567, "class": 3, "guidance": 4.5, "t_min": 0.1, "t_max": 0.9},
    {"seed": 2147483648, "class": 1, "guidance": 12.0, "t_min": 0.2, "t_max": 0.8},
    {"seed": 4294967295, "class": "null", "guidance": 1.0, "t_min": 0.0, "t_max": 1.0},
]


class ParityFailure(RuntimeError):
    """The ONNX graph does not give PyTorch's pixels; the message says how far off."""


def random_requests(n: int, noise_shape: tuple, num_classes: int, guidance_max: float,
                    gen: torch.Generator) -> dict:
    """Graph inputs for n random requests across the model's ranges (the null class included)."""
    return {"noise": torch.randn(n, *noise_shape, generator=gen),
            "class": torch.randint(0, num_classes + 1, (n,), generator=gen),
            "guidance": 1 + (guidance_max - 1) * torch.rand(n, generator=gen),
            "t_min": 0.5 * torch.rand(n, generator=gen),
            "t_max": 0.5 + 0.5 * torch.rand(n, generator=gen)}


def pixel_diff(got: np.ndarray, expected: np.ndarray) -> dict:
    d = np.abs(got.astype(np.int16) - expected.astype(np.int16))
    return {"max": int(d.max()), "differing": int((d > 0).sum()), "values": int(d.size)}


def check_pixels(what: str, diff: dict, against: str = "PyTorch's") -> None:
    if (diff["max"] > PIXEL_TOLERANCE["max"]
            or diff["differing"] > PIXEL_TOLERANCE["share"] * diff["values"]):
        raise ParityFailure(f"{what}: ONNX pixels differ from {against} too much ({diff})")


def parity(sampler: torch.nn.Module, session, noise_shape: tuple, num_classes: int,
           guidance_max: float, batches: tuple[int, ...]) -> dict:
    """ONNX pixels against PyTorch's on random requests, per batch size; raises ParityFailure."""
    gen = torch.Generator().manual_seed(0)
    diffs = {}
    for b in batches:
        feeds = random_requests(b, noise_shape, num_classes, guidance_max, gen)
        with torch.no_grad():
            expected = sampler(*feeds.values()).numpy()
        got = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
        diffs[str(b)] = pixel_diff(got, expected)
        check_pixels(f"random requests, batch {b}", diffs[str(b)])
    return {"batches": diffs, "tolerance": PIXEL_TOLERANCE}


def resolve_request(req: dict, defaults: dict, num_classes: int) -> dict:
    """A reference request in the model's terms. defaults: guidance, interval, guidance_max."""
    omega, (t_min, t_max) = defaults["guidance"], defaults["interval"]
    cls = num_classes if req["class"] == "null" else req["class"] % num_classes
    return {"seed": req["seed"], "class": cls,
            "guidance": min(req["guidance"] if req["guidance"] is not None else omega,
                            defaults["guidance_max"]),
            "t_min": req["t_min"] if req["t_min"] is not None else t_min,
            "t_max": req["t_max"] if req["t_max"] is not None else t_max}


def feeds_for(requests: list[dict], noise_shape: tuple) -> dict:
    """Graph inputs for requests, each with its seed's noise (the worker's noise generator)."""
    return {"noise": batch_noise([r["seed"] for r in requests], noise_shape),
            "class": torch.tensor([r["class"] for r in requests], dtype=torch.int64),
            "guidance": torch.tensor([r["guidance"] for r in requests], dtype=torch.float32),
            "t_min": torch.tensor([r["t_min"] for r in requests], dtype=torch.float32),
            "t_max": torch.tensor([r["t_max"] for r in requests], dtype=torch.float32)}


def torch_pixels(sampler: torch.nn.Module, requests: list[dict], noise_shape: tuple
                 ) -> np.ndarray:
    """PyTorch's pixels for each request, each alone in its batch: [n, H, W, C]."""
    with torch.no_grad():
        return np.stack([sampler(*feeds_for([r], noise_shape).values())[0].numpy()
                         for r in requests])


def graph_pixels(session, requests: list[dict], noise_shape: tuple
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """The graph's pixels for each request alone and for all of them in one batch ([n, H, W, C]
    each), and its median seconds per image alone (the first run, a warm-up, left out)."""
    alone, seconds = [], []
    for req in requests:
        feeds = {k: v.numpy() for k, v in feeds_for([req], noise_shape).items()}
        started = time.perf_counter()
        alone.append(session.run(None, feeds)[0][0])
        seconds.append(time.perf_counter() - started)
    feeds = {k: v.numpy() for k, v in feeds_for(requests, noise_shape).items()}
    batched = session.run(None, feeds)[0]
    return np.stack(alone), batched, statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def reference_content(requests: list[dict], pixels: np.ndarray, row_extra: list[dict]) -> dict:
    """reference.json's content: each request with its pixels (and `row_extra`'s fields)."""
    rows = []
    for req, image, extra in zip(requests, pixels, row_extra):
        raw = image.tobytes()
        rows.append({**req, "pixels_base64": base64.b64encode(raw).decode(),
                     "pixels_sha256": hashlib.sha256(raw).hexdigest(), **extra})
    return {"noise": NOISE_NAME, "pixels": {"layout": "HWC", "dtype": "uint8",
                                            "shape": list(pixels.shape[1:])},
            "requests": rows}


def reference(sampler: torch.nn.Module, session, requests: list[dict], noise_shape: tuple
              ) -> tuple[dict, dict, float]:
    """reference.json's content (each request's pixels from PyTorch alone in its batch), the
    parity of onnxruntime against them (each alone, and all in one batch; raises ParityFailure),
    and onnxruntime's median seconds per image at batch 1."""
    expected = torch_pixels(sampler, requests, noise_shape)
    alone, batched, seconds = graph_pixels(session, requests, noise_shape)
    n = len(requests)
    result = {"alone": pixel_diff(alone.reshape(n, -1), expected.reshape(n, -1)),
              "one_batch": pixel_diff(batched.reshape(n, -1), expected.reshape(n, -1))}
    check_pixels("reference requests (alone)", result["alone"])
    check_pixels("reference requests (one batch)", result["one_batch"])
    content = reference_content(requests, expected, [{"onnx_pixel_diff": pixel_diff(a, e)}
                                                     for a, e in zip(alone, expected)])
    return content, result, seconds


def write_reference(path: Path, content: dict, version: str) -> None:
    """reference.json: the model version it was made by, the noise generator, the pixels."""
    Path(path).write_text(json.dumps({"model_version": version, **content}, indent=1) + "\n")
