"""Colour for the builtin renderer: HSL helpers, tints, and a model's palette for a prompt."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from arena.generation.builtin.style import ModelStyle
from arena.generation.builtin.words import Prompt


def hsl(h: float, s: float, li: float) -> np.ndarray:
    """RGB (0..1) of hue ``h`` (wrapped), saturation ``s`` and lightness ``li`` (clamped)."""
    return np.array(colorsys.hls_to_rgb(h % 1.0, min(max(li, 0.0), 1.0), min(max(s, 0.0), 1.0)))


def to_hsl(rgb: np.ndarray) -> tuple[float, float, float]:
    """Hue, saturation and lightness of an RGB colour (0..1)."""
    h, li, s = colorsys.rgb_to_hls(*(float(c) for c in np.clip(rgb, 0, 1)))
    return h, s, li


def _hue_dist(a: float, b: float) -> float:
    d = abs(a - b) % 1.0
    return min(d, 1.0 - d)


def suppress(rgb: np.ndarray, neg: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Push a colour away from the negative prompt's colours."""
    if not neg:
        return rgb
    h, s, li = to_hsl(rgb)
    for nh, ns, nl in neg:
        if ns < 0.15:  # black / white / grey: push lightness away
            if nl < 0.3 and li < 0.35:
                li = 0.35 + (0.35 - li) * 0.5
            elif nl > 0.7 and li > 0.7:
                li = 0.7 - (li - 0.7) * 0.5
            elif 0.3 <= nl <= 0.7 and s < 0.2:
                s = 0.5
        elif s > 0.15 and _hue_dist(h, nh) < 0.1:
            h = (nh + 0.5) % 1.0
    return hsl(h, s, li)


def tinted(rgb: np.ndarray, tint: tuple[float, float, float], weight: float) -> np.ndarray:
    """``rgb`` moved by ``weight`` toward the HSL ``tint``, keeping some of its lightness."""
    li = to_hsl(rgb)[2]
    th, ts, tl = tint
    target = hsl(th, ts, 0.45 * li + 0.55 * tl)
    return (1.0 - weight) * rgb + weight * target


@dataclass
class Palette:
    """The colours of one picture."""

    stops: np.ndarray  # (K, 3) background gradient, float 0..1
    accents: list[np.ndarray]
    ink: np.ndarray  # outline / contour colour


def build_palette(style: ModelStyle, p: Prompt, rng: np.random.Generator) -> Palette:
    """The model's palette, tinted by the prompt's colours and away from the negative ones."""
    mods = p.modifiers
    tone = style.tone
    if "dark" in mods or "neon" in mods:
        tone = "dark"
    elif "bright" in mods or "pastel" in mods:
        tone = "light"
    lights = {"dark": (0.08, 0.2, 0.34), "mid": (0.3, 0.48, 0.62), "light": (0.62, 0.78, 0.9)}[tone]
    sat = style.saturation
    if "vivid" in mods or "neon" in mods:
        sat = min(1.0, sat + 0.3)
    if "muted" in mods or "pastel" in mods:
        sat *= 0.55
    if "mono" in mods:
        sat *= 0.08
    h0 = style.hue + float(rng.normal(0, 0.015))
    harm = style.harmony
    stops = [
        hsl(h0 + harm[2] * 0.35, sat * 0.85, lights[0]),
        hsl(h0, sat, lights[1]),
        hsl(h0 + harm[1] * 0.3, sat * 0.9, lights[2]),
    ]
    accent_l = {"dark": 0.62, "mid": 0.72, "light": 0.4}[tone]
    accents = [
        hsl(h0 + off + 0.02 * i, min(1.0, sat + 0.15), accent_l) for i, off in enumerate(harm)
    ]
    accents.append(hsl(h0 + harm[1] + 0.5, sat, 1.0 - accent_l))
    ink = hsl(h0 + 0.5, 0.35, 0.06 if tone != "dark" else 0.92)

    all_tints = [*p.tints]
    weight = 0.62
    if not all_tints and p.theme_tints:
        all_tints = [*p.theme_tints]
        weight = 0.35
    if all_tints:
        stops = [tinted(c, all_tints[i % len(all_tints)], weight) for i, c in enumerate(stops)]
        accents = [
            tinted(c, all_tints[(i + 1) % len(all_tints)], weight * 0.8)
            for i, c in enumerate(accents)
        ]
    stops = [suppress(c, p.neg_tints) for c in stops]
    accents = [suppress(c, p.neg_tints) for c in accents]

    mud = (1.0 - style.skill) ** 1.6 * 0.45
    if mud > 0:
        brown = np.array([0.42, 0.38, 0.32])
        stops = [(1 - mud) * c + mud * brown for c in stops]
        accents = [(1 - mud * 0.7) * c + mud * 0.7 * brown for c in accents]
    return Palette(
        stops=np.clip(np.array(stops, dtype=np.float32), 0, 1),
        accents=[np.clip(a, 0, 1) for a in accents],
        ink=ink,
    )
