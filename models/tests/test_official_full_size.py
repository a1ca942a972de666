"""Opt-in (IMF_FULL_SIZE=1): a random-weight iMF-B/2 with an sd-vae-ft-mse-shaped VAE, imported
at full size (89M + 49.5M parameters, 256x256 RGB) and one image generated on the CPU through the
served graph, with its time. Minutes on a 2-core CPU, so CI leaves it out."""

import json
import os
import time

import numpy as np
import pytest

from imf.export import import_official as imp
from imf.export.manifest import check_files
from imf.export.onnx_io import session
from imf.core.noise import batch_noise

pytestmark = pytest.mark.skipif(os.environ.get("IMF_FULL_SIZE") != "1",
                                reason="set IMF_FULL_SIZE=1 to import a full-size B/2 (minutes)")


def test_a_full_size_b2_imports_and_generates_an_image_on_cpu(tmp_path):
    out = tmp_path / "imf-b2-random"
    t0 = time.perf_counter()
    assert imp.main(["--random", "B/2", "--out", str(out), "--grid-classes", "207",
                     "--threads", str(os.cpu_count() or 1), "--quiet"]) == 0
    import_seconds = time.perf_counter() - t0
    man = json.loads((out / "model.json").read_text())
    assert check_files(out, man) == []
    arch = man["source"]["architecture"]
    assert arch["name"] == "iMF-B/2" and arch["parameters"] == 88_948_256
    assert man["image"] == {"channels": 3, "height": 256, "width": 256, "color": "rgb"}
    # the served graph: the network without its v head, and the VAE decoder (49,490,199)
    assert 49_490_199 + 80e6 < man["parameters"] < 49_490_199 + 88_948_256
    assert man["guidance"]["default"] == 8.0 and man["interval"]["default"] == [0.4, 0.65]
    sizes = {f["name"]: f["bytes"] for f in man["files"]}
    assert sizes["model.onnx.data"] > 530e6

    graph = session(out / "model.onnx")
    feeds = {"noise": batch_noise([0], (4, 32, 32)).numpy(), "class": np.array([207]),
             "guidance": np.array([8.0], np.float32), "t_min": np.array([0.4], np.float32),
             "t_max": np.array([0.65], np.float32)}
    t1 = time.perf_counter()
    image = graph.run(None, feeds)[0]
    t2 = time.perf_counter()
    assert image.shape == (1, 256, 256, 3) and image.dtype == np.uint8
    ref = json.loads((out / "reference.json").read_text())["requests"][0]
    assert ref["class"] == 207 and ref["seed"] == 0 and ref["guidance"] == 8.0
    print(f"\nfull-size B/2 on {os.cpu_count()} CPU threads: import {import_seconds:.0f} s; one "
          f"image {t2 - t1:.2f} s; manifest hint {man['seconds_per_image']['seconds']} s; parity "
          f"{man['parity']}")
