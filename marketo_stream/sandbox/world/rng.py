"""Deterministic randomness keyed by (seed, what, which): any fact of the world can be derived alone, in any order."""

from __future__ import annotations

import hashlib
import math
import random

_SCALE = float(1 << 64)


def _digest(seed: int, key: tuple[object, ...]) -> int:
    text = f"{seed}|" + "|".join(map(str, key))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def unit(seed: int, *key: object) -> float:
    """A uniform float in [0, 1) for this key."""
    return _digest(seed, key) / _SCALE


def exponential(seed: int, mean: float, *key: object) -> float:
    return -math.log(1.0 - unit(seed, *key)) * mean


def rng(seed: int, *key: object) -> random.Random:
    """A generator for a sequence of choices about one thing (a lead's story, a day's activities)."""
    return random.Random(_digest(seed, key))
