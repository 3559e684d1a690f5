"""Server-rendered SVG charts for the leaderboards (no JavaScript, no CDN).

Each function takes plain lists and returns an ``<svg>`` as Markup, sized by its viewBox so
it scales to the page. Every chart has a title for screen readers; the table beside it
carries the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ["#4f46e5", "#0891b2", "#16a34a", "#ca8a04", "#dc2626", "#9333ea", "#db2777",
           "#0d9488", "#ea580c", "#2563eb"]  # fmt: skip
FONT = 'font-family="system-ui, sans-serif"'


def _svg(width: float, height: float, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = max(high - low, 1e-9)
    step = 10 ** math.floor(math.log10(span / count))
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= count:
            step *= factor
            break
    start = math.ceil(low / step) * step
    return [start + i * step for i in range(int((high - start) / step) + 1)]


def ratings_with_intervals(
    names: Sequence[str],
    ratings: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    provisional: Sequence[bool],
) -> Markup:
    """Bradley-Terry ratings as dots with 95% interval whiskers, best at the top."""
    order = sorted(range(len(names)), key=lambda i: -ratings[i])
    label_w, plot_w, row_h, top = 250, 520, 22, 28
    height = top + row_h * len(order) + 24
    lo, hi = min(low) - 10, max(high) + 10

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    body = []
    for tick in _nice_ticks(lo, hi):
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 6}" y2="{height - 20}" '
            f'stroke="#e3e2ee"/><text x="{x(tick):.1f}" y="{top - 10}" text-anchor="middle" '
            f'fill="#5d5b76">{tick:.0f}</text>'
        )
    for row, i in enumerate(order):
        y = top + row_h * row + row_h / 2
        colour = "#9ca3af" if provisional[i] else PALETTE[0]
        label = escape(_short(names[i], 30)) + (" (provisional)" if provisional[i] else "")
        body.append(
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#1c1b2e">'
            f"{label}</text>"
            f'<line x1="{x(low[i]):.1f}" x2="{x(high[i]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        for end in (low[i], high[i]):
            body.append(
                f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{y - 5:.1f}" y2="{y + 5:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        body.append(
            f'<circle cx="{x(ratings[i]):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"><title>'
            f"{escape(names[i])}: {ratings[i]:.0f} (95% CI {low[i]:.0f}–{high[i]:.0f})"
            "</title></circle>"
        )
    return _svg(label_w + plot_w + 20, height, "Bradley-Terry ratings with 95% intervals", body)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return f"rgb({r},{g},{bl})"


def heatmap(
    names: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    fmt: str = "{:.0%}",
    diverging: bool = True,
) -> Markup:
    """An n x n matrix, row model against column model; None cells (never met) stay blank.

    ``diverging`` colours around one half (win fractions); otherwise shades by magnitude.
    """
    n = len(names)
    cell = 30 if n <= 16 else 18 if n <= 32 else 10
    label_w, label_h = 160, 140
    font = min(12, cell - 2)
    finite = [v for row in values for v in row if v is not None]
    vmax = max(finite, default=1.0) or 1.0
    body = []
    for i, name in enumerate(names):
        y = label_h + i * cell + cell / 2 + 4
        x = label_w + i * cell + cell / 2 + 4
        body.append(
            f'<text x="{label_w - 6}" y="{y:.1f}" text-anchor="end" font-size="{font}">'
            f"{escape(_short(name, 22))}</text>"
            f'<text transform="translate({x:.1f},{label_h - 6}) rotate(-60)" '
            f'font-size="{font}">{escape(_short(name, 22))}</text>'
        )
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = label_w + j * cell, label_h + i * cell
            if value is None:
                fill = "#f1f0f5"
            elif diverging:
                t = max(-1.0, min(1.0, (value - 0.5) * 2))
                fill = _blend((255, 255, 255), (79, 70, 229) if t > 0 else (220, 38, 38), abs(t))
            else:
                fill = _blend((238, 240, 255), (55, 48, 163), value / vmax)
            tip = "no battles" if value is None else fmt.format(value)
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                f"<title>{escape(names[i])} vs {escape(names[j])}: {escape(tip)}</title></rect>"
            )
            if n <= 16 and value is not None:
                dark = (value > 0.8 or value < 0.2) if diverging else value / vmax > 0.55
                body.append(
                    f'<text x="{x + cell / 2 - 0.5:.1f}" y="{y + cell / 2 + 3.5:.1f}" '
                    f'text-anchor="middle" font-size="9" fill="{"#fff" if dark else "#1c1b2e"}">'
                    f"{escape(tip)}</text>"
                )
    return _svg(label_w + n * cell + 10, label_h + n * cell + 10, title, body)


def elo_history(
    names: Sequence[str], at: Sequence[int], series: Sequence[Sequence[float]]
) -> Markup:
    """Online Elo over the scope's vote log, one line per model (pass at most ten)."""
    width, height, left, right, top, bottom = 760, 300, 50, 170, 16, 34
    flat = [v for line in series for v in line]
    lo, hi = min(flat) - 5, max(flat) + 5
    total = max(at[-1], 1)

    def x(v: float) -> float:
        return left + v / total * (width - left - right)

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (height - top - bottom)

    body = []
    for tick in _nice_ticks(lo, hi):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#e3e2ee"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="#5d5b76">{tick:.0f}</text>'
        )
    body.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#5d5b76">votes in this scope</text>'
    )
    for k, (name, line) in enumerate(zip(names, series, strict=True)):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(a):.1f},{y(v):.1f}" for a, v in zip(at, line, strict=True))
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name)}</title></polyline>"
            f'<rect x="{width - right + 12}" y="{top + k * 18}" width="10" height="10" '
            f'fill="{colour}"/><text x="{width - right + 28}" y="{top + k * 18 + 9}">'
            f"{escape(name[:22])}</text>"
        )
    return _svg(width, height, "Elo over the vote log", body)


def hourly_votes(hours: Sequence[str], counted: Sequence[int], uncounted: Sequence[int]) -> Markup:
    """Votes per hour as stacked bars: counted votes, with the uncounted ones on top."""
    width, height, left, right, top, bottom = 760, 200, 44, 10, 12, 30
    n = max(len(hours), 1)
    peak = max([c + u for c, u in zip(counted, uncounted, strict=True)] + [1])
    ticks = _nice_ticks(0, peak, 4)
    top_value = max(ticks[-1], peak)
    slot = (width - left - right) / n

    def y(v: float) -> float:
        return top + (top_value - v) / top_value * (height - top - bottom)

    body = []
    for tick in ticks:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#e3e2ee"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="#5d5b76">{tick:g}</text>'
        )
    for i, (label, ok, bad) in enumerate(zip(hours, counted, uncounted, strict=True)):
        x = left + i * slot + 1
        w = max(slot - 2, 1)
        tip = f"{label}: {ok} counted, {bad} not counted"
        body.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{x:.1f}" y="{y(ok):.1f}" width="{w:.1f}" height="{y(0) - y(ok):.1f}" '
            f'fill="{PALETTE[0]}"/>'
            f'<rect x="{x:.1f}" y="{y(ok + bad):.1f}" width="{w:.1f}" '
            f'height="{y(ok) - y(ok + bad):.1f}" fill="#dc2626"/></g>'
        )
        if i % 6 == 0:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{height - 12}" text-anchor="middle" '
                f'fill="#5d5b76" font-size="10">{escape(label[-5:])}</text>'
            )
    return _svg(width, height, "Votes per hour (red: kept but not counted)", body)
