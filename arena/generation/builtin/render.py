"""The builtin renderer's entry points: deterministic abstract art, per-model, led by words."""

from __future__ import annotations

import io
import operator

import numpy as np
from PIL import Image

from arena.generation.builtin.background import paint_background
from arena.generation.builtin.drawing import draw_motif
from arena.generation.builtin.layout import layout_motifs
from arena.generation.builtin.palette import build_palette
from arena.generation.builtin.seeding import seeded_rng
from arena.generation.builtin.style import model_style
from arena.generation.builtin.words import parse_prompt

__all__ = ["MAX_SIDE", "MIN_SIDE", "render", "render_png"]

MIN_SIDE = 64
MAX_SIDE = 4096


def _check_size(width: int, height: int) -> tuple[int, int]:
    try:
        width, height = operator.index(width), operator.index(height)
    except TypeError:
        raise ValueError(f"width and height must be integers, got {width!r}x{height!r}") from None
    for name, side in (("width", width), ("height", height)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(
                f"{name} {side} is out of range: each side must be between "
                f"{MIN_SIDE} and {MAX_SIDE} pixels (got {width}x{height})"
            )
    return width, height


def render(
    model_id: str,
    prompt: str,
    *,
    negative_prompt: str | None = None,
    seed: int = 0,
    width: int = 1024,
    height: int = 1024,
) -> Image.Image:
    """Draw the builtin stand-in picture for ``model_id`` and ``prompt``.

    The model id picks the style (palette, background family, line treatment, skill); colour
    words in the prompt tint the palette, every other content word adds a motif whose shape,
    place, size and colour come from a hash of the word; negative-prompt words remove matching
    motifs and colours; the seed jitters the layout. The same inputs give the same pixels in any
    process (all randomness comes from SHA-256 of the inputs; Python's salted ``hash()`` is never
    used), and the composition does not depend on the size, so a thumbnail matches the full image.

    Returns:
        An RGB image of exactly ``width`` x ``height``.

    Raises:
        ValueError: a side outside [64, 4096] pixels.
    """
    width, height = _check_size(width, height)
    model_id = str(model_id)
    style = model_style(model_id)
    parsed = parse_prompt(prompt or "", negative_prompt)
    key_words = " ".join(
        f"{w}:{c}:{k}" for (w, c), k in zip(parsed.words, parsed.scales, strict=True)
    )
    key = (model_id, int(seed or 0), key_words, parsed.tints, sorted(parsed.modifiers))
    rng = seeded_rng("builtin-render-v1", *key)  # layout: independent of the size
    tex = seeded_rng("builtin-texture-v1", width, height, *key)  # per-pixel noise
    skill = style.skill
    # unskilled models render smaller and get blown up: softer, muddier
    q = 1.0 if skill >= 0.4 else 0.55 + skill
    iw, ih = max(MIN_SIDE // 2, round(width * q)), max(MIN_SIDE // 2, round(height * q))
    div = 3.0 if skill > 0.6 else 4.0
    long_side = max(iw, ih)
    low_long = int(min(max(long_side / div, 48), 512))
    lw = max(8, round(iw * low_long / long_side))
    lh = max(8, round(ih * low_long / long_side))

    pal = build_palette(style, parsed, rng)
    bg = paint_background(style, pal, rng, tex, lw, lh, width / height)
    bg8 = np.clip(bg * 255.0 + 0.5, 0, 255).astype(np.uint8)
    img = Image.fromarray(bg8).resize((iw, ih), Image.Resampling.BICUBIC)

    for mo in layout_motifs(style, parsed, pal, rng, width / height):
        draw_motif(img, mo, style, pal, bg, rng)
        if style.composition == "symmetric" and abs(mo.x - 0.5) > 0.08:
            draw_motif(img, mo, style, pal, bg, rng, mirror=True)

    if (iw, ih) != (width, height):
        img = img.resize((width, height), Image.Resampling.BILINEAR)
    grain = style.grain * (0.5 if parsed.clean else 1.0)
    if grain > 0.02:
        gw, gh = max(1, width // 2), max(1, height // 2)
        noise = tex.normal(0.0, 40.0 * grain, (gh, gw, 3)).astype(np.float32) + 128.0
        nimg = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
        nimg = nimg.resize((width, height), Image.Resampling.NEAREST)
        img = Image.blend(img, nimg, min(0.5, 0.35 * grain + 0.05))
    if skill < 0.3:
        # washed-out, low-contrast look
        haze = Image.new("RGB", (width, height), tuple(int(v * 255) for v in pal.stops.mean(0)))
        img = Image.blend(img, haze, (0.3 - skill) * 0.45)
    return img


def render_png(
    model_id: str,
    prompt: str,
    *,
    negative_prompt: str | None = None,
    seed: int = 0,
    width: int = 1024,
    height: int = 1024,
) -> bytes:
    """PNG bytes of :func:`render` with no metadata chunks and fast compression."""
    img = render(
        model_id, prompt, negative_prompt=negative_prompt, seed=seed, width=width, height=height
    )
    # Pillow writes no metadata chunks unless asked to; level 1 trades size for speed.
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
