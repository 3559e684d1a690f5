"""Leaderboard pages: overall, per category and per competition, with charts and downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from arena.services.leaderboards.page import leaderboard_page
from arena.web import charts
from arena.web.db import get_session
from arena.web.htmx import is_htmx, vary_on_htmx

bp = Blueprint("leaderboards", __name__)


def _figures(data: dict[str, Any] | None) -> dict[str, str] | None:
    """The four SVG charts of a page's chart data, or None when there is nothing to draw."""
    if data is None or not data["names"]:
        return None
    return {
        "ratings": charts.ratings_with_intervals(
            data["names"], data["ratings"], data["low"], data["high"], data["provisional"]
        ),
        "win_fraction": charts.heatmap(
            data["names"],
            data["win_fraction"],
            title="Fraction of battles won, row model against column model (ties count half)",
        ),
        "battle_counts": charts.heatmap(
            data["names"],
            data["battle_counts"],
            title="Battles between each pair",
            fmt="{:.0f}",
            diverging=False,
        ),
        "history": charts.elo_history(
            data["history_names"], data["history_at"], data["history_series"]
        ),
    }


def _page(key: str) -> Any:
    page = leaderboard_page(
        get_session(),
        key,
        sort=request.args.get("sort", "rank"),
        reverse=request.args.get("dir") == "reverse",
    )
    context = {
        "board": page.board,
        "menu": page.menu,
        "figures": _figures(page.charts),
        "sort": page.sort,
        "reverse": page.reverse,
        "ascending": page.ascending,
        "published_ago": page.published_ago,
        "tie_note": page.tie_note,
        "csv_url": url_for("api.leaderboard", scope=key, format="csv"),
        "json_url": url_for("api.leaderboard", scope=key),
        "votes_url": url_for("api.votes", format="csv"),
    }
    template = "leaderboards/_table.html" if is_htmx() else "leaderboards/index.html"
    return vary_on_htmx(render_template(template, **context))


@bp.get("/leaderboard")
def overall() -> Any:
    """The overall leaderboard: every battle of every competition."""
    return _page("overall")


@bp.get("/leaderboard/category/<slug>")
def category(slug: str) -> Any:
    """A category's leaderboard: every battle of its competitions."""
    return _page(f"category:{slug}")


@bp.get("/leaderboard/competition/<slug>")
def competition(slug: str) -> Any:
    """One competition's leaderboard."""
    return _page(f"competition:{slug}")
