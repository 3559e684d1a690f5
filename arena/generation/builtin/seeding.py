"""Deterministic randomness for the builtin renderer: generators seeded by SHA-256 of inputs."""

from __future__ import annotations

import hashlib

import numpy as np


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def seeded_rng(*parts: object) -> np.random.Generator:
    """A generator that depends only on ``parts`` (never on Python's salted ``hash()``)."""
    seed = int.from_bytes(_digest(*parts)[:16], "big")
    return np.random.Generator(np.random.PCG64(seed))
