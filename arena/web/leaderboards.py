"""Leaderboard pages: overall, per category and per competition, with charts and downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from arena.services import leaderboards
from arena.web import charts
from arena.web.db import get_session
from arena.web.htmx import is_htmx, vary_on_htmx

bp = Blueprint("leaderboards", __name__)

SORTS = {
    "rank": lambda r: (r["rank"], r["model_name"]),
    "model": lambda r: r["model_name"].lower(),
    "creator": lambda r: ((r["creator"] or "~").lower(), r["rank"]),
    "elo": lambda r: -r["elo"],
    "bt": lambda r: -(r["bt_rating"] if r["bt_rating"] is not None else float("-inf")),
    "battles": lambda r: -r["battles"],
    "win_rate": lambda r: -r["win_rate"],
}


def _page(key: str) -> Any:
    session = get_session()
    board = leaderboards.board(session, key)
    sort = request.args.get("sort", "rank")
    if sort not in SORTS:
        sort = "rank"
    reverse = request.args.get("dir") == "reverse"
    board.rows.sort(key=SORTS[sort], reverse=reverse)
    data = leaderboards.chart_data(session, board)
    figures = None
    if data is not None and data["names"]:
        figures = {
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
    api_scope = key
    context = {
        "board": board,
        "menu": leaderboards.scope_menu(session),
        "figures": figures,
        "sort": sort,
        "reverse": reverse,
        "csv_url": url_for("api.leaderboard", scope=api_scope, format="csv"),
        "json_url": url_for("api.leaderboard", scope=api_scope),
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
