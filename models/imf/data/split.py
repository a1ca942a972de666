"""What every data set gives the rest of the code: a split (images and labels) or a DataError
that says what is missing or wrong."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class DataError(RuntimeError):
    """The data set is missing or malformed; the message says where it was looked for."""


@dataclass
class Split:
    images: np.ndarray  # uint8 [N, H, W] (grayscale) or [N, H, W, 3] (RGB)
    labels: np.ndarray  # int64 [N]
