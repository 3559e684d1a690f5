"""How each model draws: the per-model style (palette, background, treatment, skill)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from arena.generation.builtin.seeding import seeded_rng

_BACKGROUNDS = ("gradient", "rings", "stripes", "waves", "cells", "blobs", "plasma", "horizon")
_TREATMENTS = ("solid", "gradient", "outline", "inked", "glow", "shadow", "translucent")
_COMPOSITIONS = ("centered", "thirds", "scatter", "symmetric", "band")
_HARMONIES = (
    (0.0, 0.08, -0.08),
    (0.0, 0.5, 0.05),
    (0.0, 1 / 3, 2 / 3),
    (0.0, 0.42, 0.58),
    (0.0, 0.02, -0.03),
    (0.0, 0.25, 0.5),
)


@dataclass(frozen=True)
class ModelStyle:
    """How one model draws: derived from a hash of its id, never from Python's ``hash()``."""

    skill: float  # 0 = muddy, noisy, misplaced; 1 = crisp, balanced, harmonious
    hue: float
    harmony: tuple[float, float, float]
    saturation: float
    tone: str  # "dark", "mid" or "light" background
    background: str
    bg_freq: float
    bg_angle: float
    contour: bool
    treatment: str
    line_weight: float
    composition: str
    motif_scale: float
    rotate: bool
    grain: float
    vignette: float


@lru_cache(maxsize=256)
def model_style(model_id: str) -> ModelStyle:
    """The drawing style of ``model_id`` (stable across processes and machines)."""
    r = seeded_rng("builtin-style-v1", model_id)
    skill = float(r.random())
    return ModelStyle(
        skill=skill,
        hue=float(r.random()),
        harmony=_HARMONIES[int(r.integers(len(_HARMONIES)))],
        saturation=float(r.uniform(0.45, 0.9)),
        tone=("dark", "mid", "light")[int(r.integers(3))],
        background=_BACKGROUNDS[int(r.integers(len(_BACKGROUNDS)))],
        bg_freq=float(r.uniform(0.6, 1.6)),
        bg_angle=float(r.uniform(0, math.pi)),
        contour=bool(r.random() < 0.3),
        treatment=_TREATMENTS[int(r.integers(len(_TREATMENTS)))],
        line_weight=float(r.uniform(0.6, 1.8)),
        composition=_COMPOSITIONS[int(r.integers(len(_COMPOSITIONS)))],
        motif_scale=float(r.uniform(0.85, 1.2)),
        rotate=bool(r.random() < 0.5),
        grain=float(r.uniform(0.0, 1.0)) * (1.0 - skill) ** 1.5,
        vignette=float(r.uniform(0.0, 0.45)),
    )
