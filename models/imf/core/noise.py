"""The noise generator `xoshiro128ss-boxmuller/1`: seed (unsigned 32-bit) -> the N(0, 1) tensor of
one image, independent of whatever else is in the batch. Built from 32-bit integer operations and
float64 Box-Muller so the TypeScript twin (gpu-worker) reproduces it; the spec is
models/noise/SPEC.md and both implementations assert models/noise/test-vectors.json."""

from __future__ import annotations

import math

import numpy as np
import torch

NAME = "xoshiro128ss-boxmuller/1"
MASK = 0xFFFFFFFF


def _splitmix32(x: int) -> tuple[int, int]:
    """One SplitMix32 step: (new state, output)."""
    x = (x + 0x9E3779B9) & MASK
    z = x
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK
    return x, z ^ (z >> 16)


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & MASK


class Xoshiro128ss:
    """xoshiro128** with its four state words seeded by SplitMix32 from the seed."""

    def __init__(self, seed: int):
        if not (isinstance(seed, int) and 0 <= seed <= MASK):
            raise ValueError(f"seed must be an unsigned 32-bit integer, got {seed!r}")
        state, words = seed, []
        for _ in range(4):
            state, out = _splitmix32(state)
            words.append(out)
        self.s = words

    def next_u32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 9) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result


def normals(seed: int, count: int) -> np.ndarray:
    """`count` standard normals for `seed` as float32. Pairs come from Box-Muller in float64:
    u1 = (a + 1) / 2^32 in (0, 1], u2 = b / 2^32, r = sqrt(-2 ln u1),
    (r cos(2 pi u2), r sin(2 pi u2)); an odd count drops the last sine."""
    rng = Xoshiro128ss(seed)
    out = np.empty(count + (count & 1), dtype=np.float64)
    for i in range(0, count, 2):
        a, b = rng.next_u32(), rng.next_u32()
        u1 = (a + 1) / 4294967296.0
        u2 = b / 4294967296.0
        r = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        out[i] = r * math.cos(theta)
        out[i + 1] = r * math.sin(theta)
    return out[:count].astype(np.float32)


def image_noise(seed: int, shape: tuple[int, int, int]) -> torch.Tensor:
    """The noise of one image, [C, H, W] filled in C, H, W (row-major) order."""
    c, h, w = shape
    return torch.from_numpy(normals(seed, c * h * w)).reshape(c, h, w)


def batch_noise(seeds: list[int], shape: tuple[int, int, int]) -> torch.Tensor:
    """[B, C, H, W]: each row depends on its own seed only."""
    return torch.stack([image_noise(s, shape) for s in seeds])
