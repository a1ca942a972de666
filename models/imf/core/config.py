"""Configuration of the network and of a training run: plain dataclasses, printed at start and
saved with every checkpoint so a checkpoint always says how it was made."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names the field and the rule."""


@dataclass(frozen=True)
class ModelConfig:
    image_size: int = 28
    channels: int = 1
    patch_size: int = 4
    hidden_size: int = 128
    num_heads: int = 4
    shared_depth: int = 4  # trunk blocks shared by both heads
    head_depth: int = 2  # blocks in each of the u head and the auxiliary v head
    mlp_ratio: float = 8 / 3
    num_classes: int = 10  # the null (unconditional) class is index num_classes
    class_tokens: int = 8
    omega_tokens: int = 4
    t_min_tokens: int = 2
    t_max_tokens: int = 2
    time_tokens: int = 4
    # sinusoid width of each scalar embedding (the official checkpoints use 256)
    frequency_dim: int = 128
    # a learned position embedding added to the patch tokens, besides the rotary one (the
    # official checkpoints have none)
    pos_embed: bool = True
    # the auxiliary v head (trained here; the published official checkpoints carry none)
    aux_head: bool = True

    def validate(self) -> "ModelConfig":
        positive = ["image_size", "channels", "patch_size", "hidden_size", "num_heads",
                    "shared_depth", "head_depth", "num_classes", "class_tokens", "omega_tokens",
                    "t_min_tokens", "t_max_tokens", "time_tokens"]
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"model.{name} must be a positive integer, got {getattr(self, name)}")
        if self.image_size % self.patch_size:
            raise ConfigError(f"model.image_size ({self.image_size}) must be divisible by "
                              f"model.patch_size ({self.patch_size})")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"model.hidden_size ({self.hidden_size}) must be divisible by "
                              f"model.num_heads ({self.num_heads})")
        if (self.hidden_size // self.num_heads) % 2:
            raise ConfigError("model.hidden_size / model.num_heads must be even (rotary embedding)")
        if self.mlp_ratio <= 0:
            raise ConfigError(f"model.mlp_ratio must be positive, got {self.mlp_ratio}")
        if self.frequency_dim <= 0 or self.frequency_dim % 2:
            raise ConfigError(f"model.frequency_dim must be a positive even number, got "
                              f"{self.frequency_dim}")
        return self

    @property
    def null_class(self) -> int:
        return self.num_classes

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def mlp_hidden(self) -> int:
        """The SwiGLU's inner width (a ratio read from a checkpoint may sit a hair below it)."""
        return int(self.hidden_size * self.mlp_ratio + 1e-6)

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def prefix_tokens(self) -> int:
        return (self.class_tokens + self.omega_tokens + self.t_min_tokens + self.t_max_tokens
                + self.time_tokens)


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "mnist"  # mnist | fashion-mnist | folder (data_dir: one sub-folder per class)
    data_dir: str = ""
    class_names: tuple = ()  # a folder data set's class names, in label order (set when it loads)
    objective: str = "imf"  # imf | mf (the original MeanFlow objective, the ablation baseline)
    steps: int = 8000
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 200
    # the last cooldown_steps before `steps` take the learning rate linearly down to 0
    # (warm-up, constant, decay): a constant-rate checkpoint continued with a cooldown ends on
    # settled weights instead of the noise of the last updates (the A/B in models/README.md)
    cooldown_steps: int = 0
    # a run started from another checkpoint's EMA weights (train --init-from): its own EMA starts
    # on those trained weights, not on a random init, so it needs no debiasing
    init_from: str = ""
    weight_decay: float = 0.0
    adam_betas: tuple = (0.9, 0.99)
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    # time sampling: logit-normal, t = max, r = min, a share of each batch with r = t, and a
    # share of the r < t samples moved to the 1-NFE query point itself (t = 1, r = 0)
    p_mean: float = -0.4
    p_std: float = 1.0
    flow_matching_share: float = 0.5
    endpoint_share: float = 0.0
    # guidance: omega on [1, 1 + s_max], log-uniform; interval t_min ~ U(0, .5), t_max ~ U(.5, 1)
    s_max: float = 7.0
    class_dropout: float = 0.1
    # adaptive loss weight: loss / stopgrad(loss + norm_eps)
    norm_eps: float = 0.01
    # the MF baseline bakes one guidance scale in at training
    mf_omega: float = 3.0
    checkpoint_every: int = 250
    keep_snapshots: tuple = ()  # steps whose checkpoints are kept for later comparison
    threads: int = 1
    device: str = "cpu"
    bf16: bool = True  # autocast on CUDA only
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> "TrainConfig":
        if self.dataset not in ("mnist", "fashion-mnist", "folder"):
            raise ConfigError(f"dataset must be 'mnist', 'fashion-mnist' or 'folder', got {self.dataset!r}")
        if (self.dataset == "folder") != bool(self.data_dir):
            raise ConfigError("data_dir is set exactly when dataset is 'folder'")
        if self.objective not in ("imf", "mf"):
            raise ConfigError(f"objective must be 'imf' or 'mf', got {self.objective!r}")
        for name in ("steps", "batch_size", "checkpoint_every", "threads"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ConfigError("batch_size must be at least 2 (half of each batch has r = t)")
        if self.cooldown_steps < 0:
            raise ConfigError(f"cooldown_steps must be >= 0, got {self.cooldown_steps}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 <= self.flow_matching_share <= 1:
            raise ConfigError(f"flow_matching_share must be in [0, 1], got {self.flow_matching_share}")
        if not 0 <= self.endpoint_share <= 1:
            raise ConfigError(f"endpoint_share must be in [0, 1], got {self.endpoint_share}")
        if self.flow_matching_share + self.endpoint_share > 1:
            raise ConfigError("flow_matching_share + endpoint_share must be at most 1")
        if not 0 <= self.class_dropout < 1:
            raise ConfigError(f"class_dropout must be in [0, 1), got {self.class_dropout}")
        if self.s_max < 0:
            raise ConfigError(f"s_max must be >= 0, got {self.s_max}")
        if self.mf_omega < 1:
            raise ConfigError(f"mf_omega must be >= 1, got {self.mf_omega}")
        if self.p_std <= 0 or self.norm_eps <= 0:
            raise ConfigError("p_std and norm_eps must be positive")
        if not self.model.aux_head:
            raise ConfigError("model.aux_head must be on to train: the guidance target and the "
                              "loss use the auxiliary v head")
        self.model.validate()
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @staticmethod
    def from_dict(d: dict) -> "TrainConfig":
        d = dict(d)
        model = ModelConfig(**d.pop("model", {}))
        for key in ("adam_betas", "keep_snapshots", "class_names"):
            if key in d:
                d[key] = tuple(d[key])
        return TrainConfig(model=model, **d)
