"""The picture's background: the model's background family, painted at low resolution."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from arena.generation.builtin.palette import Palette
from arena.generation.builtin.style import ModelStyle


def _smooth_noise(
    rng: np.random.Generator, lw: int, lh: int, cells: int, aspect: float
) -> np.ndarray:
    """Value noise with about ``cells`` cells along the longer side, centred on zero."""
    gw = max(2, round(cells * min(1.0, aspect)))
    gh = max(2, round(cells * min(1.0, 1.0 / aspect)))
    grid = rng.random((gh, gw), dtype=np.float32)
    img = Image.fromarray(grid).resize((lw, lh), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) - 0.5


def paint_background(
    style: ModelStyle,
    pal: Palette,
    rng: np.random.Generator,
    tex: np.random.Generator,
    lw: int,
    lh: int,
    aspect: float,
) -> np.ndarray:
    """Float (lh, lw, 3) background at low resolution.

    ``rng`` drives everything that does not depend on the output size (so a thumbnail has the
    same composition as the full picture); ``tex`` only the per-pixel noise.
    """
    scale = 2.0 / min(lw, lh)
    xs = (np.arange(lw, dtype=np.float32) - (lw - 1) / 2) * scale
    ys = (np.arange(lh, dtype=np.float32) - (lh - 1) / 2) * scale
    x = xs[None, :]
    y = ys[:, None]
    f = style.bg_freq * float(rng.uniform(0.9, 1.1))
    ang = style.bg_angle + float(rng.normal(0, 0.12))
    ca, sa = math.cos(ang), math.sin(ang)
    phase = float(rng.uniform(0, 2 * math.pi))
    skill = style.skill
    crisp = 1.5 + 6.0 * skill
    kind = style.background
    edge = np.ones((lh, lw), dtype=np.float32)
    warp = _smooth_noise(rng, lw, lh, 4, aspect) * (0.25 + 0.5 * (1 - skill))
    if kind == "gradient":
        t = 0.5 + 0.42 * (x * ca + y * sa) + warp * 0.6
    elif kind == "rings":
        cx, cy = rng.uniform(-0.5, 0.5, 2)
        r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2) + warp * 0.3
        t = 0.5 + 0.5 * np.tanh(crisp * 0.5 * np.sin(r * f * 7 + phase))
        t = 0.7 * t + 0.3 * np.clip(1 - r * 0.5, 0, 1)
    elif kind == "stripes":
        s = (x * ca + y * sa) * f * 5 + warp * 2.0 + phase
        t = 0.5 + 0.5 * np.tanh(crisp * 0.4 * np.sin(s))
        t = 0.75 * t + 0.25 * (0.5 + 0.5 * (y / 1.5))
    elif kind == "waves":
        n = 5 + int(f * 3)
        wave = y + 0.12 * np.sin(x * f * 4 + phase) + 0.05 * np.sin(x * f * 9 + 2 * phase)
        band = np.clip((wave + warp * 0.3 + 1.1) / 2.2, 0, 0.999) * n
        gy, gx = np.gradient(band)
        frac = band % 1.0
        # a one-pixel ramp before each step keeps the band edges anti-aliased
        ramp = np.clip((frac - 1.0) / (np.sqrt(gx * gx + gy * gy) * 1.2 + 1e-4) + 1.0, 0, 1)
        t = (np.floor(band) + ramp) / n + 0.06 * frac * (1 - ramp)
    elif kind == "cells":
        n = 10 + int(f * 8)
        pts = rng.uniform(-1.2, 1.2, (n, 2)).astype(np.float32)
        pts[:, 0] *= max(1.0, aspect)
        pts[:, 1] *= max(1.0, 1.0 / aspect)
        vals = rng.random(n).astype(np.float32)
        d = (x[None] - pts[:, 0, None, None]) ** 2 + (y[None] - pts[:, 1, None, None]) ** 2
        order = np.argpartition(d, 1, axis=0)[:2]
        d1 = np.take_along_axis(d, order[:1], 0)[0]
        d2 = np.take_along_axis(d, order[1:2], 0)[0]
        t = vals[order[0]] * 0.85 + 0.15 * (0.5 + y * 0.5)
        edge = np.clip((np.sqrt(d2) - np.sqrt(d1)) * (8 + 16 * skill), 0, 1)
        t = t * (0.75 + 0.25 * edge) + warp * 0.2
    elif kind == "blobs":
        n = 5 + int(f * 3)
        centres = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
        centres[:, 0] *= max(1.0, aspect)
        centres[:, 1] *= max(1.0, 1.0 / aspect)
        radii = rng.uniform(0.2, 0.5, n).astype(np.float32)
        acc = np.zeros((lh, lw), dtype=np.float32)
        for (cx, cy), rr in zip(centres, radii, strict=True):
            acc += rr * rr / ((x - cx) ** 2 + (y - cy) ** 2 + 0.02)
        t = 0.5 + 0.5 * np.tanh((acc - 1.2) * (0.6 + crisp * 0.25)) + warp * 0.25
        t = 0.8 * t + 0.2 * (0.5 - y * 0.3)
    elif kind == "plasma":
        acc = np.zeros((lh, lw), dtype=np.float32)
        for _ in range(4):
            a = float(rng.uniform(0, 2 * math.pi))
            k = f * float(rng.uniform(1.5, 4.0))
            acc += np.sin((x * math.cos(a) + y * math.sin(a)) * k + float(rng.uniform(0, 6.3)))
        t = 0.5 + 0.5 * np.sin(acc * 0.9 + warp * 2)
    else:  # horizon
        hy = float(rng.uniform(0.05, 0.35))
        sky = np.clip((hy - y) / (1.0 + hy), 0, 1)
        ground = np.clip((y - hy) * 1.6, 0, 1)
        cx = float(rng.uniform(-0.6, 0.6))
        glow = np.exp(-((x - cx) ** 2 + (y - hy + 0.1) ** 2) * 3.0)
        t = 0.35 + 0.65 * sky * (1 - 0.6 * glow) - 0.3 * ground + warp * 0.25
        t = np.where(y > hy + 0.04 * np.sin(x * 5 * f + phase), t * 0.55, t)
    t = np.asarray(t, dtype=np.float32)
    t = np.clip(t, 0.0, 1.0)
    if style.contour and kind != "cells":
        # anti-aliased iso-lines: distance to the nearest level, in low-res pixels
        levels = t * 7.0
        gy, gx = np.gradient(levels)
        dist = np.abs(levels - np.round(levels)) / (np.sqrt(gx * gx + gy * gy) + 1e-3)
        contour = np.clip(1.3 - dist, 0.0, 1.0)
    else:
        contour = None
    if skill < 0.5:
        t = t + (0.5 - skill) * 0.5 * _smooth_noise(rng, lw, lh, 12, aspect)
        t = t + (0.5 - skill) * 0.2 * (tex.random((lh, lw), dtype=np.float32) - 0.5)
        t = np.clip(t, 0.0, 1.0)
    k = len(pal.stops)
    xp = np.linspace(0.0, 1.0, k)
    rgb = np.empty((lh, lw, 3), dtype=np.float32)
    for c in range(3):
        rgb[..., c] = np.interp(t, xp, pal.stops[:, c]).astype(np.float32)
    if contour is not None:
        line = (0.6 * contour)[..., None]
        rgb = rgb * (1 - line) + pal.ink.astype(np.float32) * line
    elif style.contour:
        line = (0.7 * (1.0 - edge))[..., None]
        rgb = rgb * (1 - line) + pal.ink.astype(np.float32) * line
    if style.vignette > 0:
        r2 = ((x / float(xs[-1])) ** 2 + (y / float(ys[-1])) ** 2) * 0.5
        rgb *= (1.0 - style.vignette * np.clip(r2, 0, 1.5))[..., None]
    return rgb
