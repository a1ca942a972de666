"""The evaluation classifier: a small CNN trained once per data set on its train split and cached.
Its logits give class accuracy of generated images; its penultimate features give FID."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from imf.data.datasets import load, to_model_range
from imf.paths import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".cache" / "classifiers"
FEATURES = 128
ARCH = "cnn3-v1"  # part of the cache file name: a changed architecture retrains


class Classifier(nn.Module):
    def __init__(self, classes: int = 10, channels: int = 1):
        super().__init__()
        self.conv = nn.Sequential(  # strided convolutions: cheap enough to train on a CPU
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),  # 14x14 at 28x28
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),  # 7x7 at 28x28
            nn.AdaptiveAvgPool2d(7),  # other resolutions pool to the same 7x7 grid
        )
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU())
        self.logits = nn.Linear(FEATURES, classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(logits, penultimate features) for images in [-1, 1]."""
        f = self.features(self.conv(x))
        return self.logits(f), f


def train_classifier(cfg, epochs: int = 2, seed: int = 0, log=sys.stderr) -> Classifier:
    torch.manual_seed(seed)
    split = load(cfg.dataset, "train", cfg)
    x, y = to_model_range(split.images), torch.from_numpy(split.labels)
    model = Classifier(cfg.model.num_classes, cfg.model.channels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), 128):
            idx = order[i:i + 128]
            xb = x[idx]
            # small random shifts, so the classifier judges digits rather than exact placement
            dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(xb)[0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"classifier epoch {epoch + 1}/{epochs} done in {time.time() - t0:.0f}s", file=log)
    return model.eval()


@torch.no_grad()
def accuracy(model: Classifier, images: Tensor, labels: Tensor) -> float:
    preds = torch.cat([model(images[i:i + 1000])[0].argmax(1) for i in range(0, len(images), 1000)])
    return (preds == labels).float().mean().item()


@torch.no_grad()
def embed(model: Classifier, images: Tensor) -> tuple[Tensor, Tensor]:
    """(logits, features) in chunks."""
    outs = [model(images[i:i + 1000]) for i in range(0, len(images), 1000)]
    return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])


def data_set_name(cfg) -> str:
    """What names a data set's classifier in the cache: a folder is named by its contents."""
    if cfg.dataset != "folder":
        return cfg.dataset
    from imf.data.folder import fingerprint

    return f"folder-{fingerprint(Path(cfg.data_dir), cfg.model.image_size, cfg.model.channels)}"


def cached_classifier(cfg, log=sys.stderr) -> tuple[Classifier, float]:
    """The data set's classifier and its test accuracy; trained on first use, then loaded."""
    name = data_set_name(cfg)
    path = CACHE_DIR / f"{name}-{ARCH}.safetensors"
    model = Classifier(cfg.model.num_classes, cfg.model.channels)
    if path.is_file():
        model.load_state_dict(load_file(str(path)))
        model.eval()
    else:
        print(f"training the {name} evaluation classifier (once; cached at {path})", file=log)
        model = train_classifier(cfg, log=log)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    test = load(cfg.dataset, "test", cfg)
    return model, accuracy(model, to_model_range(test.images), torch.from_numpy(test.labels))
