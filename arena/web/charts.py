"""Server-rendered SVG charts for the leaderboards (no JavaScript, no CDN).

Each builder takes plain lists and returns an ``<svg>`` as Markup. The leaderboard charts are
drawn for the width they get (``width``, CSS pixels) and shown at that size, never scaled
down, so their text stays at 12 px (11 px in heatmap cells, see ``arena.web.svg``) on any
screen: a page shows a wide and a narrow variant by media query, and a chart wider than its
box scrolls inside it. Every mark carries an SVG ``<title>`` with its exact values (hover);
the dots are focusable, so the keyboard reaches them too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from arena.web.svg import (
    ACCENT,
    DASHES,
    GREY,
    GRID,
    INK,
    MARKERS,
    MUTED,
    NARROW,
    PALETTE,
    SMALL,
    fit,
    label,
    labels,
    legend,
    log_ticks,
    marker,
    nice_ticks,
    svg,
    text_width,
)


def ratings_with_intervals(
    names: Sequence[str],
    ratings: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    provisional: Sequence[bool],
    *,
    min_battles: int | None = None,
    width: int = 760,
) -> Markup:
    """Bradley-Terry ratings as dots with 95% interval whiskers, best at the top.

    Wide (``width`` >= :data:`NARROW`): names in a column on the left; narrow: each name on
    its own line above its whisker. Provisional models get a hollow dot and a dashed whisker,
    explained once in the legend.
    """
    order = sorted(range(len(names)), key=lambda i: -ratings[i])
    narrow = width < NARROW
    label_w = 0 if narrow else min(max(text_width(n) for n in names) + 14, width * 0.38)
    left, right = (8 if narrow else label_w), width - 16
    shown = labels(names, width - 16 if narrow else label_w - 14)
    few = f" (fewer than {min_battles} battles)" if min_battles else ""
    key, key_h = legend(
        [
            (marker("circle", 6, 0, ACCENT), "rating"),
            (f'<line x1="-2" x2="14" stroke="{ACCENT}" stroke-width="2"/>', "95% interval"),
            (marker("circle", 6, 0, "none"), f"provisional{few}"),
        ][: 3 if any(provisional) else 2],
        8,
        14,
        width - 16,
    )
    row_h = 38 if narrow else 24
    top = 14 + key_h + 22
    height = top + row_h * len(order) + 44
    span = max(max(high) - min(low), 1.0)
    lo, hi = min(low) - span * 0.04, max(high) + span * 0.04

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    body = [key]
    bottom = top + row_h * len(order)
    for tick in nice_ticks(lo, hi, 4 if narrow else 6):
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 6}" y2="{bottom}" '
            f'stroke="{GRID}"/>'
        )
        for ty in (top - 10, bottom + 16):
            body.append(
                f'<text x="{x(tick):.1f}" y="{ty}" text-anchor="middle" fill="{MUTED}">'
                f"{tick:.0f}</text>"
            )
    body.append(
        f'<text x="{(left + right) / 2:.0f}" y="{height - 8}" text-anchor="middle" '
        f'fill="{MUTED}">rating (Elo scale)</text>'
    )
    for row, i in enumerate(order):
        y = top + row_h * row + (26 if narrow else row_h / 2)
        if narrow:
            body.append(label(8, y - 12, names[i], shown[i]))
        else:
            body.append(label(label_w - 10, y + 4, names[i], shown[i], text_anchor="end"))
        colour = GREY if provisional[i] else ACCENT
        dash = ' stroke-dasharray="4 3"' if provisional[i] else ""
        body.append(
            f'<line x1="{x(low[i]):.1f}" x2="{x(high[i]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for end in (low[i], high[i]):
            body.append(
                f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{y - 5:.1f}" y2="{y + 5:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        tip = f"{names[i]}: {ratings[i]:.0f} (95% CI {low[i]:.0f}–{high[i]:.0f})" + (
            ", provisional" if provisional[i] else ""
        )
        dot = "none" if provisional[i] else ACCENT
        body.append(marker("circle", x(ratings[i]), y, dot, 5, tip=tip, focus=True))
    return svg(width, height, "Bradley-Terry ratings with 95% intervals", body)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return f"rgb({r},{g},{bl})"


WHITE, BLUE, RED = (255, 255, 255), (79, 70, 229), (220, 38, 38)
PALE, DEEP = (238, 240, 255), (55, 48, 163)


def _shade(value: float, vmax: float, diverging: bool) -> tuple[str, bool]:
    """A cell's fill and whether its text should be white."""
    if diverging:
        t = max(-1.0, min(1.0, (value - 0.5) * 2))
        return _blend(WHITE, BLUE if t > 0 else RED, abs(t)), abs(t) > 0.6
    return _blend(PALE, DEEP, value / vmax), value / vmax > 0.55


def percent(value: float) -> str:
    """A fraction as a whole percentage without the sign (cell text): ``0.554`` → ``55``."""
    return f"{100 * value:.0f}"


def heatmap(
    names: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    fmt: str = "{:.0%}",
    cell_text: Callable[[float], str] = percent,
    diverging: bool = True,
    blank: str = "no battles",
    counts: Sequence[Sequence[float | None]] | None = None,
    width: int = 1000,
) -> Markup:
    """An n x n matrix, row model against column model; None cells (``blank``) stay grey.

    ``diverging`` colours fractions around one half (red below, blue above); otherwise cells
    shade by magnitude. ``fmt`` formats a value in its cell's ``<title>``, ``cell_text`` in
    the cell; ``counts`` (battles per cell) are added to the ``<title>``. Rows and columns
    carry the full names (or names shortened in the middle, which stay distinct); a colour
    legend sits under the matrix. Narrow (``width`` <
    :data:`NARROW`): rows are numbered and columns carry those numbers, so the matrix starts
    on screen and scrolls sideways in its box.
    """
    n = len(names)
    narrow = width < NARROW
    cell = 30 if n <= 16 else 26
    if narrow:
        numbered = [f"{i + 1}. {name}" for i, name in enumerate(names)]
        row_w = min(max(text_width(nm) for nm in numbered) + 12, 165)
        rows, cols = labels(numbered, row_w - 12), [str(i + 1) for i in range(n)]
        label_h, right = 24, 8
    else:
        row_w = min(max(text_width(nm) for nm in names) + 12, 230)
        rows, cols = labels(names, row_w - 12), labels(names, 240)
        col_w = max(text_width(c) for c in cols)
        label_h = col_w * 0.87 + 16  # sin 60°
        right = max(col_w * 0.5 - cell * 0.5, 0) + 12  # cos 60°
    finite = [v for row in values for v in row if v is not None]
    vmax = max(finite, default=1.0) or 1.0
    body = []
    for i, name in enumerate(names):
        y = label_h + i * cell + cell / 2 + 4
        x = row_w + i * cell + cell / 2 - 3
        body.append(label(row_w - 8, y, name, rows[i], text_anchor="end"))
        if narrow:
            body.append(label(x + 3, label_h - 8, name, cols[i], text_anchor="middle"))
        else:
            turn = f"translate({x:.1f},{label_h - 6}) rotate(-60)"
            body.append(label(0, 0, name, cols[i], transform=turn))
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = row_w + j * cell, label_h + i * cell
            fill, white = ("#f1f0f5", False) if value is None else _shade(value, vmax, diverging)
            tip = f"{names[i]} vs {names[j]}: {blank if value is None else fmt.format(value)}"
            if value is not None and counts is not None and counts[i][j]:
                tip += f" of {counts[i][j]:.0f} battles"
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if value is not None:
                body.append(
                    f'<text x="{x + cell / 2 - 0.5:.1f}" y="{y + cell / 2 + 3.5:.1f}" '
                    f'text-anchor="middle" font-size="{SMALL}" pointer-events="none" '
                    f'fill="{"#fff" if white else INK}">{escape(cell_text(value))}</text>'
                )
    top = label_h + n * cell + 24
    swatch = '<rect x="0" y="-6" width="12" height="12" fill="{}" stroke="' + GRID + '"/>'
    steps = (0, 0.25, 0.5, 0.75, 1.0) if diverging else (0.25, 0.5, 0.75, 1.0)
    shades = [s if diverging else s * vmax for s in steps]
    items = [(swatch.format(_shade(v, vmax, diverging)[0]), fmt.format(v)) for v in shades]
    items.append((swatch.format("#f1f0f5"), blank))
    size = row_w + n * cell + right
    key, key_h = legend(items, 8, top, (width if narrow else max(size, 320)) - 16)
    body.append(key)
    return svg(max(size, 320), top + key_h, title, body)


def _style(k: int) -> tuple[str, str, str]:
    """The colour, dash pattern and marker of series ``k`` (three cycles, so all differ)."""
    return PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)], MARKERS[k % len(MARKERS)]


def elo_history(
    names: Sequence[str],
    at: Sequence[int],
    series: Sequence[Sequence[float]],
    *,
    width: int = 760,
) -> Markup:
    """Online Elo over the scope's vote log, one line per model (pass at most ten).

    Each line has its own colour, dash pattern and marker; x ticks count votes, y ticks the
    Elo. The legend sits on the right (wide) or under the plot (narrow, ``width`` <
    :data:`NARROW`); markers along each line show the exact Elo on hover, the last one is
    focusable.
    """
    narrow = width < NARROW
    legend_w = min(max(text_width(nm) for nm in names) + 44, 270)
    left, top, bottom = 56, 14, 54
    right = width - 12 if narrow else width - legend_w - 16
    plot_h = 240 if narrow else 300
    height = top + plot_h + bottom + (len(names) * 20 + 8 if narrow else 0)
    flat = [v for line in series for v in line]
    pad = max((max(flat) - min(flat)) * 0.05, 5)
    lo, hi = min(flat) - pad, max(flat) + pad
    total = max(at[-1], 1)

    def x(v: float) -> float:
        return left + v / total * (right - left)

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    body = [
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{plot_h}" fill="none" '
        f'stroke="{GRID}"/>'
    ]
    for tick in nice_ticks(lo, hi, 6):
        body.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{tick:.0f}</text>'
        )
    for tick in nice_ticks(0, total, 4 if narrow else 7):
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top + plot_h}" '
            f'y2="{top + plot_h + 5}" stroke="{MUTED}"/><text x="{x(tick):.1f}" '
            f'y="{top + plot_h + 19}" text-anchor="middle" fill="{MUTED}">{tick:,.0f}</text>'
        )
    body.append(
        f'<text x="{(left + right) / 2:.0f}" y="{top + plot_h + 40}" text-anchor="middle" '
        f'fill="{MUTED}">votes in this scope</text>'
        f'<text transform="translate(14,{top + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="{MUTED}">Elo</text>'
    )
    every = max(len(at) // 8, 1)
    legend_x = 8 if narrow else right + 16
    legend_y = top + plot_h + bottom + 12 if narrow else top + 8
    shown = labels(names, (width - 50) if narrow else legend_w - 40)
    for k, (name, line) in enumerate(zip(names, series, strict=True)):
        colour, dash, shape = _style(k)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        points = " ".join(f"{x(a):.1f},{y(v):.1f}" for a, v in zip(at, line, strict=True))
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
            f"{dashed}><title>{escape(name)}</title></polyline>"
        )
        for p in range(k % every, len(at), every):
            if p != len(at) - 1:
                tip = f"{name}: Elo {line[p]:.0f} after {at[p]:,} votes"
                body.append(marker(shape, x(at[p]), y(line[p]), colour, 3.5, tip=tip))
        tip = f"{name}: Elo {line[-1]:.0f} after {at[-1]:,} votes"
        body.append(marker(shape, x(at[-1]), y(line[-1]), colour, 4.5, tip=tip, focus=True))
        ly = legend_y + k * 20
        body.append(
            f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{ly}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dashed}/>'
            + marker(shape, legend_x + 14, ly, colour, 3.5)
            + label(legend_x + 36, ly + 4, name, shown[k])
        )
    return svg(width, height, "Elo over the vote log", body)


def _wrap(text: str, px: float) -> list[str]:
    """``text`` broken at spaces into lines of at most ``px`` pixels."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}") <= px:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _place(
    x: float,
    y: float,
    w: float,
    taken: list[tuple[float, float, float, float]],
    bounds: tuple[float, float, float, float],
) -> tuple[float, float, str] | None:
    """Where a label ``w`` px wide goes beside the dot at (x, y) without covering another
    label or dot, inside ``bounds``; None when every spot is taken."""
    for dx, dy, anchor in ((8, 4, "start"), (-8, 4, "end"), (0, -10, "middle"),
                           (0, 18, "middle"), (7, -8, "start"), (-7, -8, "end"),
                           (7, 16, "start"), (-7, 16, "end"), (10, -16, "start"),
                           (-10, -16, "end"), (10, 24, "start"), (-10, 24, "end")):  # fmt: skip
        x0 = x + dx - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
        box = (x0, y + dy - 11, x0 + w, y + dy + 3)
        inside = bounds[0] <= box[0] and box[2] <= bounds[2] and bounds[1] <= box[1]
        clear = all(box[2] < t[0] or t[2] < box[0] or box[3] < t[1] or t[3] < box[1]
                    for t in taken)  # fmt: skip
        if inside and box[3] <= bounds[3] and clear:
            taken.append(box)
            return x + dx, y + dy, anchor
    return None


def scatter(
    names: Sequence[str],
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    title: str,
    x_label: str,
    x_fmt: Callable[[float], str],
    tips: Sequence[str],
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    hollow: Sequence[bool] | None = None,
    hollow_label: str = "",
    width: int = 760,
) -> Markup:
    """One labelled dot per model: ``xs`` across (a log scale when they spread over 10x),
    the rating ``ys`` up, with its 95% interval (``low``, ``high``) as a whisker.

    ``tips`` are the dots' exact values (hover, focus). Labels go beside their dot where
    there is room; the names of dots left unlabelled are listed under the plot. ``hollow``
    dots are explained by ``hollow_label`` in a legend.
    """
    narrow = width < NARROW
    left, right, top = 60, width - 14, 14
    plot_h = 260 if narrow else 320
    low, high = low or ys, high or ys
    positive = min(xs) > 0
    log_x = positive and max(xs) / min(xs) >= 10
    if log_x:
        x_lo, x_hi = math.log10(min(xs) / 1.5), math.log10(max(xs) * 1.5)
        ticks = [t for t in log_ticks(10**x_lo, 10**x_hi)]
        ticks = ticks if len(ticks) <= (4 if narrow else 8) else ticks[::2]
    else:
        span = max(max(xs) - min(xs), max(xs) * 0.2, 1e-9)
        x_lo, x_hi = max(min(xs) - span * 0.12, 0 if positive else -math.inf), max(xs) + span * 0.12
        ticks = nice_ticks(x_lo, x_hi, 4 if narrow else 6)
    span = max(max(high) - min(low), 1.0)
    y_lo, y_hi = min(low) - span * 0.06, max(high) + span * 0.06

    def x(v: float) -> float:
        v = math.log10(v) if log_x else v
        return left + (v - x_lo) / (x_hi - x_lo) * (right - left)

    def y(v: float) -> float:
        return top + (y_hi - v) / (y_hi - y_lo) * plot_h

    bottom = top + plot_h
    body = [
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{plot_h}" fill="none" '
        f'stroke="{GRID}"/>'
    ]
    for tick in ticks:
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{bottom + 5}" '
            f'stroke="{GRID}"/><text x="{x(tick):.1f}" y="{bottom + 19}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(x_fmt(tick))}</text>'
        )
    for tick in nice_ticks(y_lo, y_hi, 5):
        body.append(
            f'<line x1="{left - 5}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{tick:.0f}</text>'
        )
    scale = " (log scale)" if log_x else ""
    body.append(
        f'<text x="{(left + right) / 2:.0f}" y="{bottom + 40}" text-anchor="middle" '
        f'fill="{MUTED}">{escape(x_label + scale)}</text>'
        f'<text transform="translate(14,{top + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="{MUTED}">rating</text>'
    )
    hollow = hollow or [False] * len(names)
    taken = [(x(a) - 6, y(b) - 6, x(a) + 6, y(b) + 6) for a, b in zip(xs, ys, strict=True)]
    bounds = (left + 2, top + 2, right - 2, bottom - 2)
    unlabelled, marks = [], []
    for i in sorted(range(len(names)), key=lambda i: -ys[i]):
        cx, cy = x(xs[i]), y(ys[i])
        colour = GREY if hollow[i] else ACCENT
        marks.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(high[i]):.1f}" y2="{y(low[i]):.1f}" '
            f'stroke="{colour}" stroke-opacity=".35" stroke-width="2"/>'
        )
        shown = fit(names[i], 150 if narrow else 190)
        spot = _place(cx, cy, text_width(shown), taken, bounds)
        if spot is None:
            unlabelled.append(names[i])
        else:
            body.append(label(spot[0], spot[1], names[i], shown, text_anchor=spot[2]))
        dot = "none" if hollow[i] else ACCENT
        body.append(marker("circle", cx, cy, dot, 5, tip=tips[i], focus=True))
    body[1:1] = marks
    y_next = bottom + 64
    notes = []
    if any(hollow) and hollow_label:
        key, key_h = legend([(marker("circle", 6, 0, "none"), hollow_label)], 8, y_next, width - 16)
        body.append(key)
        y_next += key_h
    if unlabelled:
        notes = _wrap("Unlabelled (no room): " + ", ".join(unlabelled), width - 16)
        for line in notes:
            body.append(f'<text x="8" y="{y_next:.0f}" fill="{MUTED}">{escape(line)}</text>')
            y_next += 18
    return svg(width, y_next, title, body)


def hourly_votes(hours: Sequence[str], counted: Sequence[int], uncounted: Sequence[int]) -> Markup:
    """Votes per hour as stacked bars: counted votes, with the uncounted ones on top."""
    width, height, left, right, top, bottom = 760, 200, 44, 10, 12, 30
    n = max(len(hours), 1)
    peak = max([c + u for c, u in zip(counted, uncounted, strict=True)] + [1])
    ticks = nice_ticks(0, peak, 4)
    top_value = max(ticks[-1], peak)
    slot = (width - left - right) / n

    def y(v: float) -> float:
        return top + (top_value - v) / top_value * (height - top - bottom)

    body = []
    for tick in ticks:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{tick:g}</text>'
        )
    for i, (hour, ok, bad) in enumerate(zip(hours, counted, uncounted, strict=True)):
        x = left + i * slot + 1
        w = max(slot - 2, 1)
        tip = f"{hour}: {ok} counted, {bad} not counted"
        body.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{x:.1f}" y="{y(ok):.1f}" width="{w:.1f}" height="{y(0) - y(ok):.1f}" '
            f'fill="{ACCENT}"/>'
            f'<rect x="{x:.1f}" y="{y(ok + bad):.1f}" width="{w:.1f}" '
            f'height="{y(ok) - y(ok + bad):.1f}" fill="#dc2626"/></g>'
        )
        if i % 6 == 0:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{height - 12}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="{SMALL}">{escape(hour[-5:])}</text>'
            )
    return svg(width, height, "Votes per hour (red: kept but not counted)", body, fixed=False)
