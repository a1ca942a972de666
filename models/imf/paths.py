"""Where things are: the repository, training runs (runs/, outside git) and served model folders
(models/), and where a command's paths point. npm scripts run from models/, so a relative path the
user typed is resolved against the directory npm was started in (INIT_CWD), not against models/."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNS = REPO_ROOT / "runs"
MODELS_DIR = REPO_ROOT / "models"


def user_path(path: Path | str) -> Path:
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    return Path(os.environ.get("INIT_CWD") or os.getcwd()) / path


def run_dir(model_id: str) -> Path:
    """A model's training run: checkpoints, logs, evaluation."""
    return RUNS / model_id
