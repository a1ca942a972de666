"""Named training configurations. `mnist-cpu` is the shipped model's recipe, sized so a run fits
in about two hours on two CPU cores; `mnist-gpu` is the larger one for an accelerator."""

from __future__ import annotations

from .config import ModelConfig, TrainConfig

# Fewer conditioning tokens than the paper's 8/4/2/2/4: on two CPU cores every token costs
# training time, and ten tokens still give each condition its own group.
_CPU_MODEL = ModelConfig(hidden_size=96, num_heads=3, shared_depth=4, head_depth=2,
                         class_tokens=4, omega_tokens=2, t_min_tokens=1, t_max_tokens=1,
                         time_tokens=2)

PRESETS: dict[str, TrainConfig] = {
    "default": TrainConfig(),
    "mnist-cpu": TrainConfig(dataset="mnist", steps=9200, batch_size=64, lr=1e-3,
                             warmup_steps=200, ema_decay=0.999, threads=2,
                             checkpoint_every=200, keep_snapshots=(1000, 2000, 3000, 3200),
                             model=_CPU_MODEL),
    "mnist-gpu": TrainConfig(dataset="mnist", steps=20000, batch_size=256, lr=6e-4,
                             warmup_steps=500, ema_decay=0.9995, device="cuda",
                             checkpoint_every=1000, model=ModelConfig(
                                 hidden_size=256, num_heads=4, shared_depth=6, head_depth=3)),
    "smoke": TrainConfig(dataset="mnist", steps=20, batch_size=16, lr=1e-3, warmup_steps=2,
                         checkpoint_every=10, model=ModelConfig(
                             hidden_size=32, num_heads=2, shared_depth=1, head_depth=1,
                             class_tokens=1, omega_tokens=1, t_min_tokens=1, t_max_tokens=1,
                             time_tokens=1)),
}
