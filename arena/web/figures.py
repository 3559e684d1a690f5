"""The leaderboard page's charts: its chart data and the models' public facts drawn as SVG.

Charts with a phone layout come as ``{"wide": svg, "narrow": svg}``; the page shows one by
media query (``static/css/charts.css``). Captions say what each chart shows and how.
"""

from __future__ import annotations

from typing import Any

from arena.services.leaderboards.facts import ModelFacts
from arena.web import charts

#: Chart widths in CSS pixels: the wide layout and the phone layout (a 390 px screen leaves
#: about 330 px inside a card). Heatmaps take the room their models need when wide.
WIDE, PHONE = 760, 320
#: The provider that renders stand-in images offline: its latency is not a model's speed.
STAND_IN = "builtin"


def _both(draw: Any, *args: Any, wide: int = WIDE, **kwargs: Any) -> dict[str, Any]:
    """A chart drawn twice: ``wide`` and for a phone (``narrow``)."""
    return {"wide": draw(*args, width=wide, **kwargs), "narrow": draw(*args, width=PHONE, **kwargs)}


def _price(usd: float) -> str:
    return f"${usd:.3g}" if usd < 1 else f"${usd:,.2f}"


def _latency(ms: float) -> str:
    return f"{ms / 1000:.3g} s" if ms >= 1000 else f"{ms:.0f} ms"


def _scatter(
    data: dict[str, Any],
    facts: dict[int, ModelFacts],
    value: Any,
    *,
    title: str,
    x_label: str,
    x_fmt: Any,
    tip: Any,
    hollow: Any = None,
    hollow_label: str = "",
) -> dict[str, Any]:
    """A rating-against-fact scatter plot of the models whose fact (``value``) is known:
    ``{"wide", "narrow", "missing", "hollow", "shown"}``: the charts (None when no model has
    the fact), the names of the models left out and of those drawn hollow, how many are drawn."""
    known = [
        i for i, pk in enumerate(data["model_ids"]) if pk in facts and value(facts[pk]) is not None
    ]
    missing = [n for i, n in enumerate(data["names"]) if i not in known]
    result: dict[str, Any] = {
        "wide": None,
        "narrow": None,
        "missing": missing,
        "hollow": [],
        "shown": len(known),
    }
    if not known:
        return result
    f = [facts[data["model_ids"][i]] for i in known]
    marked = [bool(hollow and hollow(x)) for x in f]
    result["hollow"] = [data["names"][i] for i, m in zip(known, marked, strict=True) if m]
    ratings = [data["ratings"][i] for i in known]
    result.update(
        _both(
            charts.scatter,
            [data["names"][i] for i in known],
            [float(value(x)) for x in f],
            ratings,
            title=title,
            x_label=x_label,
            x_fmt=x_fmt,
            tips=[
                f"{data['names'][i]}: rating {r:.0f}, {tip(x)}"
                for i, r, x in zip(known, ratings, f, strict=True)
            ],
            low=[data["low"][i] for i in known],
            high=[data["high"][i] for i in known],
            hollow=marked,
            hollow_label=hollow_label,
        )
    )
    return result


def _predicted_caption(ties_model: str, tie_rate: float | None) -> str:
    """What the predicted win-rate matrix shows under the snapshot's tie model."""
    formula = "1 / (1 + 10^((r_column − r_row) / 400))"
    if ties_model == "half":
        return (
            "Predicted score of the row model against the column model (a tie counting as "
            f"half a win), from the published ratings: {formula}."
        )
    caption = (
        "Predicted chance that the row model wins a decisive vote against the column model, "
        f"from the published ratings: {formula}."
    )
    if ties_model == "davidson" and tie_rate:
        caption += (
            " Davidson's tie model adds ties on top: about "
            f"{100 * tie_rate:.0f}% of votes between equal models."
        )
    elif ties_model == "decisive":
        caption += " Ties are left out, as in the fit."
    return caption


def figures(page_charts: dict[str, Any] | None) -> dict[str, Any] | None:
    """The SVG charts of a leaderboard page, or None when there is nothing to draw.

    Args:
        page_charts: ``arena.services.leaderboards.plots.chart_data`` of the page's board
            (it carries the snapshot's tie model, provisional threshold and the models'
            public facts too).
    """
    data = page_charts
    if data is None or not data["names"]:
        return None
    names = data["names"]
    facts = data["facts"]
    return {
        "ratings": _both(
            charts.ratings_with_intervals,
            names,
            data["ratings"],
            data["low"],
            data["high"],
            data["provisional"],
            min_battles=data["min_battles"],
        ),
        "predicted": _both(
            charts.heatmap,
            names,
            data["predicted"],
            title="Predicted win rate, row model against column model",
            blank="same model",
        ),
        "predicted_caption": _predicted_caption(data["ties_model"], data["tie_rate"]),
        "price": _scatter(
            data,
            facts,
            lambda f: f.price_usd,
            title="Rating against price per image",
            x_label="USD per 1024×1024 image",
            x_fmt=_price,
            tip=lambda f: f"{_price(float(f.price_usd))} per image ({f.price_label})",
        ),
        "latency": _scatter(
            data,
            facts,
            lambda f: f.median_latency_ms,
            title="Rating against median generation latency",
            x_label="median generation latency",
            x_fmt=_latency,
            tip=lambda f: (
                f"median latency {_latency(f.median_latency_ms)} "
                f"(via {', '.join(f.latency_providers) or 'unknown provider'})"
            ),
            hollow=lambda f: STAND_IN in f.latency_providers,
            hollow_label="measured on the stand-in provider",
        ),
        "win_fraction": _both(
            charts.heatmap,
            names,
            data["win_fraction"],
            title="Fraction of battles won, row model against column model (ties count half)",
            counts=data["battle_counts"],
        ),
        "battle_counts": _both(
            charts.heatmap,
            names,
            data["battle_counts"],
            title="Battles between each pair",
            fmt="{:.0f}",
            cell_text="{:.0f}".format,
            diverging=False,
        ),
        "history": _both(
            charts.elo_history,
            data["history_names"],
            data["history_at"],
            data["history_series"],
        ),
    }
