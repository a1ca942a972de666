"""Named training configurations. `mnist-cpu` is sized so a run fits in about two hours on two
CPU cores; `mnist-gpu` and `folder-gpu` are the larger network for an accelerator (the shipped
models), `folder-cpu` is what `--data` trains on a CPU."""

from __future__ import annotations

import dataclasses

from imf.core.config import ModelConfig, TrainConfig

# Fewer conditioning tokens than the paper's 8/4/2/2/4: on two CPU cores every token costs
# training time, and ten tokens still give each condition its own group.
_CPU_MODEL = ModelConfig(hidden_size=96, num_heads=3, shared_depth=4, head_depth=2,
                         class_tokens=4, omega_tokens=2, t_min_tokens=1, t_max_tokens=1,
                         time_tokens=2)
# The paper's token groups and head size (64); 4 shared blocks and 3-block heads keep the served
# u path at 3.4M parameters, an ONNX graph under the repository's 20 MB file limit.
_GPU_MODEL = ModelConfig(hidden_size=192, num_heads=3, shared_depth=4, head_depth=3)

# One share of each batch at the 1-NFE query point (t, r) = (1, 0): the endpoint A/B in
# models/README.md measured it better at one step than the official sampler alone.
_ENDPOINT = dict(endpoint_share=0.1)

_MNIST_CPU = TrainConfig(dataset="mnist", steps=9200, batch_size=64, lr=1e-3,
                         warmup_steps=200, ema_decay=0.999, threads=2,
                         checkpoint_every=200, keep_snapshots=(1000, 2000, 3000, 3200),
                         model=_CPU_MODEL)
_GPU = dict(steps=8000, batch_size=512, lr=1e-3, warmup_steps=300, ema_decay=0.999,
            device="cuda", bf16=True, checkpoint_every=250, model=_GPU_MODEL, **_ENDPOINT)

PRESETS: dict[str, TrainConfig] = {
    "default": TrainConfig(),
    "mnist-cpu": _MNIST_CPU,
    "mnist-gpu": TrainConfig(dataset="mnist", **_GPU),
    # --data fills in dataset, data_dir, class names, image size and channels
    "folder-cpu": dataclasses.replace(_MNIST_CPU, steps=6000, keep_snapshots=(), **_ENDPOINT),
    "folder-gpu": TrainConfig(dataset="mnist", **_GPU),
    "smoke": TrainConfig(dataset="mnist", steps=20, batch_size=16, lr=1e-3, warmup_steps=2,
                         checkpoint_every=10, model=ModelConfig(
                             hidden_size=32, num_heads=2, shared_depth=1, head_depth=1,
                             class_tokens=1, omega_tokens=1, t_min_tokens=1, t_max_tokens=1,
                             time_tokens=1)),
}
