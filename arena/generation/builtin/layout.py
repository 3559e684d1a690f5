"""Scene composition: one motif per prompt word, placed, sized and coloured in the model's way."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arena.generation.builtin.palette import Palette, hsl, suppress, tinted
from arena.generation.builtin.seeding import seeded_rng
from arena.generation.builtin.shapes import Prim, motif_shape
from arena.generation.builtin.style import ModelStyle
from arena.generation.builtin.words import GENERIC_KINDS, KEYWORD_KINDS, Prompt

_SKY_KINDS = {"sun", "crescent", "planet", "cloud", "bird"}
_GROUND_KINDS = {"figure", "tree", "house", "tower", "animal", "boat", "flower"}
_BOTTOM_KINDS = {"mountain", "wave", "city"}
_DEPTH = {"mountain": 0, "city": 0, "sun": 1, "crescent": 1, "planet": 1, "cloud": 1, "wave": 2}
_UPRIGHT_KINDS = _GROUND_KINDS | _BOTTOM_KINDS | {"sun", "cloud", "fish", "eye", "heart"}


@dataclass
class Motif:
    """One word's motif: its shape and where, how big and in which colour it is drawn."""

    word: str
    kind: str
    prims: list[Prim]
    stretch: float
    x: float  # centre, fraction of width
    y: float  # centre, fraction of height
    size: float  # radius, fraction of min side
    rot: float
    colour: np.ndarray
    named: bool = False  # the prompt named this motif's colour ("golden sun")


def _motif_kind(word: str, wr: np.random.Generator) -> str:
    kind = KEYWORD_KINDS.get(word)
    if kind is None:
        kind = GENERIC_KINDS[int(wr.integers(len(GENERIC_KINDS)))]
    return kind


def layout_motifs(
    style: ModelStyle,
    p: Prompt,
    pal: Palette,
    rng: np.random.Generator,
    aspect: float,
) -> list[Motif]:
    """The prompt's motifs placed on a frame of ``aspect`` (width / height), back to front."""
    skill = style.skill
    # one unit = the shorter side; the frame is ux wide and uy tall in those units
    ux, uy = max(aspect, 1.0), max(1.0 / aspect, 1.0)
    words = list(p.words)
    scales = list(p.scales)
    if not words:
        words, scales = [(f"#{int(rng.integers(1 << 30))}", None)], [1.0]
    motifs: list[Motif] = []
    n = len(words)
    shrink = 1.0 / math.sqrt(max(1.0, n / 2.5))
    if "minimal" in p.modifiers:
        shrink *= 1.15
    for idx, (word, wcolour) in enumerate(words):
        wr = seeded_rng("builtin-word-v1", word)
        kind = _motif_kind(word, wr)
        if kind in p.banned_kinds:
            continue
        prims, stretch = motif_shape(kind, word, wr)
        x, y = (float(v) for v in wr.uniform(0.18, 0.82, 2))
        size = float(wr.uniform(0.15, 0.28)) * style.motif_scale * shrink * scales[idx]
        if idx == 0:
            size *= 1.3
        if kind in _SKY_KINDS:
            y = 0.14 + 0.24 * float(wr.random())
        elif kind in _BOTTOM_KINDS:
            size = max(size, 0.18 * scales[idx])
            y = 1.0 - size / uy * (0.8 + 0.15 * float(wr.random()))
        elif kind in _GROUND_KINDS:
            y = 0.8 - size / uy * 0.9 + 0.06 * float(wr.random())
        rot = float(wr.uniform(-math.pi, math.pi)) if style.rotate else float(wr.normal(0, 0.15))
        if kind in _UPRIGHT_KINDS:
            rot = float(wr.normal(0, 0.05))
        # colour: the word's own hue, pulled toward the model's palette by skill
        wh, ws, wl = (float(v) for v in wr.random(3))
        own = hsl(wh, 0.45 + 0.5 * ws, 0.35 + 0.35 * wl)
        accent = pal.accents[int(wr.integers(len(pal.accents)))]
        harmony = 0.35 + 0.5 * skill
        colour = (1 - harmony) * own + harmony * accent
        if wcolour is not None:
            colour = 0.2 * colour + 0.8 * hsl(*wcolour)
        elif p.tints:
            colour = tinted(colour, p.tints[idx % len(p.tints)], 0.35)
        colour = suppress(colour, p.neg_tints)
        motifs.append(
            Motif(word, kind, prims, stretch, x, y, size, rot, colour, wcolour is not None)
        )

    # model composition
    comp = style.composition
    m = len(motifs)
    for i, mo in enumerate(motifs):
        free = mo.kind not in _SKY_KINDS | _BOTTOM_KINDS | _GROUND_KINDS
        if comp == "centered" and free:
            if i == 0:
                mo.x, mo.y, mo.size = 0.5, 0.5, mo.size * 1.25
            else:
                a = 2 * math.pi * (i - 1) / max(1, m - 1) + mo.x * 2
                mo.x, mo.y = 0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)
        elif comp == "thirds":
            mo.x = 0.5 + (mo.x - 0.5) * 0.4 + (1 / 6 if mo.x > 0.5 else -1 / 6)
            if free:
                mo.y = 0.5 + (mo.y - 0.5) * 0.4 + (1 / 6 if mo.y > 0.5 else -1 / 6)
        elif comp == "band" and free:
            mo.y = 0.5 + (mo.y - 0.5) * 0.3
            mo.x = (i + 0.5) / m if m > 1 else 0.5
    # seed jitter, more for unskilled models
    jit = 0.02 + 0.1 * (1 - skill) ** 2
    for mo in motifs:
        mo.x += float(rng.normal(0, jit))
        mo.y += float(rng.normal(0, jit))
        mo.size *= float(np.exp(rng.normal(0, 0.06 + 0.35 * (1 - skill) ** 2)))
        mo.rot += float(rng.normal(0, 0.03 + 0.3 * (1 - skill) ** 2))
    # skilled models keep things apart and inside the frame
    if skill > 0.35 and m > 1:
        pos = np.array([[mo.x * ux, mo.y * uy] for mo in motifs])
        rad = np.array([mo.size * max(1.0, mo.stretch * 0.6) for mo in motifs])
        strength = (skill - 0.35) / 0.65
        for _ in range(12):
            d = pos[:, None, :] - pos[None, :, :]
            dist = np.sqrt((d**2).sum(-1)) + 1e-6
            overlap = np.clip(rad[:, None] + rad[None, :] - dist, 0, None)
            np.fill_diagonal(overlap, 0)
            push = (d / dist[..., None] * overlap[..., None]).sum(1) * 0.25 * strength
            pos += push
        for mo, (px, py) in zip(motifs, pos, strict=True):
            mo.x = px / ux
            if mo.kind not in _BOTTOM_KINDS:
                mo.y = py / uy
    if skill > 0.35:
        for mo in motifs:
            mx = min(0.45, mo.size * mo.stretch / ux + 0.04)
            my = min(0.45, mo.size / uy + 0.04)
            mo.x = min(max(mo.x, mx), 1 - mx)
            if mo.kind not in _BOTTOM_KINDS:
                mo.y = min(max(mo.y, my), 1 - my)
    # paint back to front: far scenery, sky, water, then everything else in prompt order
    motifs.sort(key=lambda mo: _DEPTH.get(mo.kind, 3))
    return motifs
