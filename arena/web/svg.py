"""SVG drawing parts shared by the charts: text widths, labels that fit, ticks, legends, marks.

Text is measured by estimate (the server has no fonts): :func:`text_width` errs on the wide
side, so a label it says fits does fit in the browser's sans-serif.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

#: Ten line colours that stay apart on white (Tableau 10, the light ones darkened).
PALETTE = ["#4e79a7", "#e8710a", "#d62728", "#2a9d8f", "#3f8f2f", "#b8860b", "#9c4f96",
           "#d6336c", "#8c5a3c", "#555555"]  # fmt: skip
DASHES = ["", "7 4", "2 3", "9 3 2 3"]
MARKERS = ["circle", "square", "triangle", "diamond", "cross"]
SHAPES = {  # polygon markers, in units of the marker's radius
    "triangle": [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)],
    "diamond": [(0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)],
    "cross": [(-1, -.4), (-.4, -.4), (-.4, -1), (.4, -1), (.4, -.4), (1, -.4), (1, .4),
              (.4, .4), (.4, 1), (-.4, 1), (-.4, .4), (-1, .4)],
}  # fmt: skip
FONT_SIZE = 12  # every label, tick and legend entry
SMALL = 11  # the numbers inside heatmap cells: the smallest text drawn
INK, MUTED, GRID, ACCENT, GREY = "#1c1b2e", "#5d5b76", "#e3e2ee", "#4f46e5", "#8a8aa0"
FONT = 'font-family="system-ui, sans-serif"'
#: Below this width a chart takes its narrow (phone) layout.
NARROW = 600


def svg(width: float, height: float, title: str, body: list[str], *, fixed: bool = True) -> Markup:
    """An ``<svg>``; ``fixed``: drawn at its own size (``width``/``height`` attributes)."""
    size = f'width="{width:.0f}" height="{height:.0f}" ' if fixed else ""
    return Markup(
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" {size}role="group" '
        f'aria-label="{escape(title)}" class="{"chart-fixed" if fixed else "chart"}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="{FONT_SIZE}" fill="{INK}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """A generous estimate of ``text``'s width in pixels at ``size`` (sans-serif)."""
    wide, narrow = "mwMW", "ijlI.,:;|!'()[] ·"
    em = sum(
        0.95 if c in wide else 0.32 if c in narrow else 0.44 if c in "frt" else
        0.76 if c.isupper() else 0.64
        for c in text
    )  # fmt: skip
    return em * size


def fit(text: str, px: float, size: float = FONT_SIZE) -> str:
    """``text`` shortened in the middle (``Stable Diffu…arge Turbo``) to fit ``px`` pixels."""
    if text_width(text, size) <= px:
        return text
    for keep in range(len(text) - 1, 0, -1):
        tail = keep * 2 // 5
        short = (
            f"{text[: keep - tail].rstrip()}…{text[len(text) - tail :].lstrip() if tail else ''}"
        )
        if text_width(short, size) <= px:
            return short
    return "…"


def labels(names: Sequence[str], px: float, size: float = FONT_SIZE) -> list[str]:
    """Each name fitted to ``px``, distinct for distinct names (a suffix where two collide)."""
    out = [fit(name, px, size) for name in names]
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            out[i] = f"{fit(names[i], px - text_width(' ·9', size), size)} ·{seen[label]}"
    return out


def label(x: float, y: float, name: str, shown: str, extra: str = "", **attrs: object) -> str:
    """A ``<text>``; the full name in its ``<title>`` when ``shown`` shortens it."""
    more = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    title = f"<title>{escape(name)}</title>" if shown != name else ""
    return f'<text x="{x:.1f}" y="{y:.1f}"{more}{extra}>{title}{escape(shown)}</text>'


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round ticks (1-2-5 steps) from ``low`` to ``high``, about ``count`` of them."""
    span = max(high - low, 1e-9)
    step = 10 ** math.floor(math.log10(span / count))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= count + 1:
            step *= factor
            break
    start = math.ceil(low / step - 1e-9) * step
    return [start + i * step for i in range(int((high - start) / step + 1e-9) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks between ``low`` and ``high`` (both > 0)."""
    ticks = []
    for exp in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        ticks += [m * 10**exp for m in (1, 2, 5) if low <= m * 10**exp <= high]
    return ticks


def legend(items: list[tuple[str, str]], x0: float, y0: float, width: float) -> tuple[str, float]:
    """Legend entries (a swatch drawn at (0, 0) and its label) flowed into rows of ``width``.

    Returns the markup and the height it takes."""
    out, x, y = [], x0, y0
    for swatch, label in items:
        w = 22 + text_width(label)
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + 20
        out.append(
            f'<g transform="translate({x:.1f},{y:.1f})">{swatch}'
            f'<text x="18" y="4" fill="{MUTED}">{escape(label)}</text></g>'
        )
        x += w + 14
    return "".join(out), y - y0 + 20


def marker(
    kind: str,
    x: float,
    y: float,
    colour: str,
    r: float = 4.0,
    *,
    tip: str = "",
    focus: bool = False,
) -> str:
    """A marker shape centred on (x, y), filled with ``colour`` (``none``: hollow), with its
    exact values in a ``<title>`` (``tip``) and reachable from the keyboard when ``focus``."""
    paint = (
        f'fill="{colour}"' if colour != "none" else f'fill="#fff" stroke="{GREY}" stroke-width="2"'
    )
    if kind == "square":
        tag, geometry = "rect", f'x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}"'
    elif kind == "circle":
        tag, geometry = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="{r}"'
    else:
        tag = "polygon"
        points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in SHAPES[kind])
        geometry = f'points="{points}"'
    if focus:
        paint += f' tabindex="0" role="img" aria-label="{escape(tip)}"'
    if not tip:
        return f"<{tag} {geometry} {paint}/>"
    return f"<{tag} {geometry} {paint}><title>{escape(tip)}</title></{tag}>"
