"""Painting one motif onto the picture: masks, line treatment, contrast with the background."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from arena.generation.builtin.layout import Motif
from arena.generation.builtin.palette import Palette, hsl, to_hsl
from arena.generation.builtin.style import ModelStyle


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: int) -> None:
    """A polyline with round joins and caps (Pillow's own curve joint is slow in Python)."""
    draw.line(pts, fill=255, width=width)
    if width >= 4:
        r = width / 2 - 0.5
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _lut(alpha: float) -> list[int]:
    return [round(v * alpha) for v in range(256)]


def draw_motif(
    img: Image.Image,
    mo: Motif,
    style: ModelStyle,
    pal: Palette,
    bg_small: np.ndarray,
    rng: np.random.Generator,
    mirror: bool = False,
) -> None:
    """Paint ``mo`` onto ``img`` in place (mirrored left to right if ``mirror``)."""
    w, h = img.size
    unit = min(w, h)
    skill = style.skill
    radius = max(3.0, mo.size * unit)
    cx = (1 - mo.x if mirror else mo.x) * w
    cy = mo.y * h
    cr, sr = math.cos(mo.rot), math.sin(mo.rot)
    rotm = np.array([[cr, -sr], [sr, cr]])
    sx = mo.stretch * (-1 if mirror else 1)
    # unskilled hands: a smooth warp of the whole shape plus a little per-vertex jitter
    warp = (1 - skill) ** 2 * 0.12
    jitter = (1 - skill) ** 3 * 0.025
    wf = rng.uniform(1.5, 3.5, 2)
    wp = rng.uniform(0, 2 * math.pi, 2)
    prims: list[tuple[str, np.ndarray, float]] = []
    for op, pts, wrel in mo.prims:
        q = pts * [sx, 1.0]
        if warp > 0:
            q = q + warp * np.sin(q[:, ::-1] * wf + wp) + rng.normal(0, jitter, q.shape)
        q = q @ rotm.T * radius + [cx, cy]
        prims.append((op, q, wrel * radius))
    treatment = style.treatment
    lw = max(1.0, radius * 0.06 * style.line_weight)
    outline = treatment in ("outline", "inked")
    glow = treatment == "glow"
    shadow = treatment == "shadow"
    pad = lw * 2 + 2 + max((wd for _, _, wd in prims), default=0)
    blur = radius * (0.45 if glow else 0.2) if (glow or shadow) else 0.0
    pad += blur * 2.5
    allp = np.concatenate([q for _, q, _ in prims])
    x0 = math.floor(allp[:, 0].min() - pad)
    y0 = math.floor(allp[:, 1].min() - pad)
    x1 = math.ceil(allp[:, 0].max() + pad)
    y1 = math.ceil(allp[:, 1].max() + pad)
    # clip to the canvas (plus a margin for the blur)
    x0, y0 = max(x0, -int(pad)), max(y0, -int(pad))
    x1, y1 = min(x1, w + int(pad)), min(y1, h + int(pad))
    bw, bh = x1 - x0, y1 - y0
    if bw < 2 or bh < 2:
        return
    ss = 1
    if skill > 0.45:
        ss = 3 if bw * bh < 160_000 else 2
        while ss > 1 and bw * bh * ss * ss > 6_000_000:
            ss -= 1
    off = np.array([x0, y0])

    def local(q: np.ndarray) -> list[tuple[float, float]]:
        return [tuple(v) for v in ((q - off) * ss).tolist()]

    fill = Image.new("L", (bw * ss, bh * ss), 0)
    fd = ImageDraw.Draw(fill)
    edge = Image.new("L", (bw * ss, bh * ss), 0) if outline else None
    ed = ImageDraw.Draw(edge) if edge is not None else None
    elw = max(1, round(lw * ss * (1.6 if treatment == "inked" else 1.0)))
    for op, q, wd in prims:
        pts = local(q)
        if op == "line":
            width = max(1, round(wd * ss))
            _stroke(fd, pts, width)
            if ed is not None:
                _stroke(ed, pts, width + 2 * elw)
        else:
            fd.polygon(pts, fill=255 if op == "fill" else 0)
            if ed is not None:
                _stroke(ed, [*pts, pts[0]], 2 * elw)
    if ss > 1:
        fill = fill.reduce(ss)
        if edge is not None:
            edge = edge.reduce(ss)

    colour = mo.colour
    # skilled models make sure the motif stands out from what is behind it
    lh, lw_ = bg_small.shape[:2]
    bx = min(lw_ - 1, max(0, int(cx / w * lw_)))
    by = min(lh - 1, max(0, int(cy / h * lh)))
    behind = bg_small[by, bx]
    lum = float(colour @ [0.3, 0.59, 0.11])
    blum = float(behind @ [0.3, 0.59, 0.11])
    if abs(lum - blum) < 0.3:
        hh, ss_, ll = to_hsl(colour)
        shift = (0.1 if mo.named else 0.32) * (0.3 + 0.7 * skill)
        direction = 1.0 if lum >= blum else -1.0
        if not 0.08 <= ll + direction * shift <= 0.92:
            direction = -direction
        target = ll + direction * shift
        colour = hsl(hh, ss_, target)
    rgb = tuple(int(v) for v in np.clip(colour * 255 + 0.5, 0, 255))

    if shadow or glow:
        small = fill.reduce(4) if min(bw, bh) > 16 else fill
        factor = bw / small.size[0]
        small = small.filter(ImageFilter.GaussianBlur(max(0.5, blur / factor)))
        soft = small.resize((bw, bh), Image.Resampling.BILINEAR)
        if shadow:
            d = round(radius * 0.12)
            img.paste((0, 0, 0), (x0 + d, y0 + d), soft.point(_lut(0.45)))
        else:
            light = tuple(int(min(255, v * 0.55 + 120)) for v in rgb)
            img.paste(light, (x0, y0), soft.point(_lut(0.9)))
    if edge is not None:
        ink = tuple(int(v * 255) for v in pal.ink) if treatment == "inked" else rgb
        img.paste(ink, (x0, y0), edge)
    if treatment == "outline":
        img.paste(rgb, (x0, y0), fill.point(_lut(0.22)))
        return
    alpha = 0.85 if treatment == "translucent" else 1.0 - 0.25 * (1 - skill) ** 2
    mask = fill if alpha >= 0.999 else fill.point(_lut(alpha))
    if treatment == "gradient" and bw * bh > 0:
        gy = np.linspace(1.25, 0.7, bh, dtype=np.float32)[:, None, None]
        gx = np.linspace(1.05, 0.95, bw, dtype=np.float32)[None, :, None]
        arr = np.clip(np.asarray(rgb, dtype=np.float32) * gy * gx, 0, 255).astype(np.uint8)
        img.paste(Image.fromarray(arr), (x0, y0), mask)
    else:
        img.paste(rgb, (x0, y0), mask)
