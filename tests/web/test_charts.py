"""The SVG chart builders: text sizes, a title on every mark, legends, ticks, distinct labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from arena.services.leaderboards.plots import predicted_wins
from arena.web import charts
from arena.web.svg import fit, labels, text_width

NS = "{http://www.w3.org/2000/svg}"
NAMES = [
    "Stable Diffusion 3.5 Large Turbo",
    "Stable Diffusion 3.5 Large",
    "Stable Diffusion 3.5 Medium",
    "FLUX1.1 [pro] Ultra",
    "FLUX1.1 [pro]",
    "DALL·E 3",
]
RATINGS = [1210.0, 1150.0, 1100.0, 1020.0, 960.0, 900.0]


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def _text(node: ET.Element) -> str:
    """The text a ``<text>`` shows (its ``<title>``, the full name on hover, left out)."""
    return "".join(x for x in [node.text, *(child.tail for child in node)] if x)


def _font_sizes(root: ET.Element) -> list[float]:
    """The font size every ``<text>`` is drawn at (its own, else the nearest ancestor's)."""
    parents = {child: parent for parent in root.iter() for child in parent}
    sizes = []
    for text in root.iter(f"{NS}text"):
        node = text
        while node.get("font-size") is None:
            node = parents[node]
        sizes.append(float(node.get("font-size")))
    return sizes


def _shown_at_own_size(root: ET.Element) -> None:
    """Drawn for its width: width/height attributes equal to the viewBox (scale 1)."""
    _, _, w, h = (float(v) for v in root.get("viewBox").split())
    assert (float(root.get("width")), float(root.get("height"))) == (w, h)


def _ratings(width: int, provisional: list[bool] | None = None) -> ET.Element:
    provisional = provisional or [False, False, True, False, True, False]
    low = [r - 40 for r in RATINGS]
    high = [r + 40 for r in RATINGS]
    markup = charts.ratings_with_intervals(
        NAMES, RATINGS, low, high, provisional, min_battles=30, width=width
    )
    return _svg(markup)


@pytest.mark.parametrize("width", [760, 320])
def test_ratings_chart_text_is_readable_and_every_dot_has_its_values(width):
    root = _ratings(width)
    _shown_at_own_size(root)
    assert float(root.get("width")) == width
    assert min(_font_sizes(root)) >= 11
    dots = [c for c in root.iter(f"{NS}circle") if c.get("tabindex") == "0"]
    assert len(dots) == len(NAMES)
    tips = [d.find(f"{NS}title").text for d in dots]
    assert tips[0] == "Stable Diffusion 3.5 Large Turbo: 1210 (95% CI 1170–1250)"
    assert tips[2].endswith(", provisional") and all(d.get("aria-label") for d in dots)
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    for name in NAMES:  # every name in full, none shortened at these widths
        assert name in texts


def test_ratings_chart_marks_provisional_once_in_a_legend():
    markup = str(charts.ratings_with_intervals(NAMES, RATINGS, RATINGS, RATINGS, [True] * 6))
    assert "(provisional)" not in markup
    root = _ratings(760)
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    assert texts.count("provisional (fewer than 30 battles)") == 1
    assert "rating" in texts and "95% interval" in texts
    hollow = [c for c in root.iter(f"{NS}circle") if c.get("tabindex") and c.get("fill") == "#fff"]
    assert len(hollow) == 2  # the two provisional models
    without = _ratings(760, provisional=[False] * 6)
    assert not any("provisional" in (t.text or "") for t in without.iter(f"{NS}text"))


def test_ratings_chart_names_start_inside_the_chart():
    """No label is cut at the left: right-anchored names end where the whiskers start and
    the column is wide enough for the longest (estimated) name."""
    root = _ratings(760)
    ends = [float(t.get("x")) for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert ends and min(ends) >= max(text_width(n) for n in NAMES)


def _matrix(n: int) -> list[list[float | None]]:
    return [[None if i == j else (i + j) % 10 / 10 for j in range(n)] for i in range(n)]


@pytest.mark.parametrize("width", [760, 320])
def test_heatmap_has_distinct_labels_a_title_per_cell_and_a_colour_legend(width):
    root = _svg(charts.heatmap(NAMES, _matrix(6), title="Win fraction", width=width))
    _shown_at_own_size(root)
    assert min(_font_sizes(root)) >= 11
    rows = [_text(t) for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert len(rows) == len(NAMES) and len(set(rows)) == len(NAMES)
    cells = list(root.iter(f"{NS}rect"))
    titled = [c.find(f"{NS}title").text for c in cells if c.find(f"{NS}title") is not None]
    assert len(titled) == 36
    assert "Stable Diffusion 3.5 Large Turbo vs Stable Diffusion 3.5 Large: 10%" in titled
    assert "DALL·E 3 vs DALL·E 3: no battles" in titled
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    for entry in ("0%", "25%", "50%", "75%", "100%", "no battles"):
        assert entry in texts  # the colour legend


def test_heatmap_columns_on_a_phone_are_numbered_like_the_rows():
    root = _svg(charts.heatmap(NAMES, _matrix(6), title="t", width=320))
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    assert texts[0].startswith("1. Stable") and texts[1] == "1"


def test_heatmap_column_labels_fit_above_the_matrix():
    """Wide: rotated column names get the height and right margin they need."""
    root = _svg(charts.heatmap(NAMES, _matrix(6), title="t"))
    width = float(root.get("width"))
    cols = [t for t in root.iter(f"{NS}text") if "rotate(-60)" in (t.get("transform") or "")]
    assert len(cols) == 6
    for col in cols:
        x, y = (float(v) for v in re.search(r"translate\(([\d.]+),([\d.]+)\)", col.get("transform")).groups())  # fmt: skip  # noqa: E501
        name = _text(col)
        reach = text_width(name) * 0.5  # cos 60°: how far right the label reaches
        assert x + reach <= width and y - text_width(name) * 0.87 >= 0


def test_labels_stay_distinct_when_shortened():
    names = ["Stable Diffusion 3.5 Large Turbo", "Stable Diffusion 3.5 Large", "Stable Diffusion 3.5 Medium"]  # fmt: skip  # noqa: E501
    for px in (60, 90, 120, 200):
        shown = labels(names, px)
        assert len(set(shown)) == 3, shown
        assert all(text_width(s) <= px + text_width(" ·9") for s in shown)
    assert fit("Stable Diffusion 3.5 Large Turbo", 130).endswith("Turbo")  # the tail survives
    assert fit("SANA", 100) == "SANA"


def test_elo_history_has_ticks_a_legend_and_distinct_styles():
    at = list(range(0, 2501, 50))
    series = [[1000 + k * 10 + (i % 7) * k for i in range(len(at))] for k in range(10)]
    names = [f"Model number {k}" for k in range(10)]
    for width in (760, 320):
        root = _svg(charts.elo_history(names, at, series, width=width))
        _shown_at_own_size(root)
        assert min(_font_sizes(root)) >= 11
        texts = [_text(t) for t in root.iter(f"{NS}text")]
        x_ticks = [t for t in texts if re.fullmatch(r"\d{1,3}(,\d{3})*", t) and "," in t]
        assert len(x_ticks) >= 2 and "votes in this scope" in texts
        y_ticks = [t for t in texts if re.fullmatch(r"1\d{3}", t)]
        assert len(y_ticks) >= 5
        assert all(name in texts for name in names)  # the legend, not clipped
        lines = list(root.iter(f"{NS}polyline"))
        styles = {(p.get("stroke"), p.get("stroke-dasharray")) for p in lines}
        assert len(lines) == 10 and len(styles) == 10
        focusable = [e for e in root.iter() if e.get("tabindex") == "0"]
        assert len(focusable) == 10
        assert focusable[0].find(f"{NS}title").text == "Model number 0: Elo 1000 after 2,500 votes"
        assert float(root.get("width")) == width


def test_scatter_labels_dots_lists_the_unlabelled_and_uses_a_log_scale_when_spread():
    prices = [0.003, 0.04, 0.08, 0.025, 0.05, 0.005]
    markup = charts.scatter(
        NAMES,
        prices,
        RATINGS,
        title="Rating against price",
        x_label="price per image",
        x_fmt=lambda v: f"${v:g}",
        tips=[f"{n}: {p}" for n, p in zip(NAMES, prices, strict=True)],
        hollow=[True, False, False, False, False, False],
        hollow_label="measured on the stand-in provider",
        width=320,
    )
    root = _svg(markup)
    _shown_at_own_size(root)
    assert min(_font_sizes(root)) >= 11
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    assert "price per image (log scale)" in texts
    assert "measured on the stand-in provider" in texts
    dots = [c for c in root.iter(f"{NS}circle") if c.get("tabindex") == "0"]
    assert sorted(d.find(f"{NS}title").text for d in dots) == sorted(
        f"{n}: {p}" for n, p in zip(NAMES, prices, strict=True)
    )
    named = {  # a label shortened to fit carries the full name in its <title>
        t.find(f"{NS}title").text if t.find(f"{NS}title") is not None else _text(t)
        for t in root.iter(f"{NS}text")
    }
    first = next((i for i, t in enumerate(texts) if t.startswith("Unlabelled")), len(texts))
    note = " ".join(texts[first:])  # the list of unlabelled dots, wrapped over lines
    for name in NAMES:  # each model is named: beside its dot, or in the list of unlabelled
        assert name in named or name in note


def test_scatter_of_close_values_keeps_a_linear_scale():
    root = _svg(
        charts.scatter(
            NAMES[:2], [120.0, 180.0], RATINGS[:2], title="t", x_label="latency",
            x_fmt=lambda v: f"{v:.0f} ms", tips=["a", "b"],
        )
    )  # fmt: skip
    texts = [_text(t) for t in root.iter(f"{NS}text")]
    assert "latency" in texts and not any("log scale" in t for t in texts)


def test_predicted_wins_follow_the_elo_scale():
    p = predicted_wins([1400.0, 1000.0, 1000.0])
    assert p[0][0] is None and p[1][1] is None
    assert p[0][1] == pytest.approx(10 / 11) and p[1][0] == pytest.approx(1 / 11)
    assert p[1][2] == pytest.approx(0.5)
    assert p[0][2] + p[2][0] == pytest.approx(1.0)
