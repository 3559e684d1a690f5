"""Leaderboard pages: overall, per category and per competition, with charts and downloads,
and the overview of every model's rank on every board."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from arena.errors import ValidationError
from arena.services.leaderboards.overview import overview as build_overview
from arena.services.leaderboards.page import leaderboard_page
from arena.web.db import get_session
from arena.web.figures import figures
from arena.web.htmx import is_htmx, redirect_to, vary_on_htmx

bp = Blueprint("leaderboards", __name__)


def _figures(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The SVG charts of a page's chart data (``arena.web.figures``), or None."""
    return figures(data)


def _show_deprecated() -> bool:
    """``?deprecated=1`` lists deprecated models too (they are hidden by default)."""
    return request.args.get("deprecated") == "1"


def _page(key: str) -> Any:
    show_deprecated = _show_deprecated()
    page = leaderboard_page(
        get_session(),
        key,
        sort=request.args.get("sort", "rank"),
        reverse=request.args.get("dir") == "reverse",
        show_deprecated=show_deprecated,
    )
    fragment = is_htmx()
    context = {
        "board": page.board,
        "tabs": page.tabs,
        "competitions": page.competitions,
        "show_deprecated": show_deprecated,
        "deprecated_hidden": page.deprecated_hidden,
        # Kept on the sort links and scope links, so the choice survives navigation.
        "keep": "&deprecated=1" if show_deprecated else "",
        "figures": None if fragment else _figures(page.charts),  # a fragment is the table
        "sort": page.sort,
        "reverse": page.reverse,
        "ascending": page.ascending,
        "published_ago": page.published_ago,
        "tie_note": page.tie_note,
        "csv_url": url_for("api.leaderboard", scope=key, format="csv"),
        "json_url": url_for("api.leaderboard", scope=key),
        "votes_url": url_for("api.votes", format="csv"),
    }
    template = "leaderboards/_table.html" if fragment else "leaderboards/index.html"
    return vary_on_htmx(render_template(template, **context))


@bp.get("/leaderboard")
def overall() -> Any:
    """The overall leaderboard: every battle of every competition.

    ``?competition=<slug>`` (the competition list's form, without JavaScript) redirects to
    that competition's board.
    """
    if "competition" in request.args:
        slug = request.args["competition"].strip()
        if not slug:
            raise ValidationError("choose a competition", field="competition")
        keep = {"deprecated": "1"} if _show_deprecated() else {}
        return redirect_to(url_for("leaderboards.competition", slug=slug, **keep))
    return _page("overall")


@bp.get("/leaderboard/overview")
def overview() -> Any:
    """Every model's rank (upper bound) overall and in each category, on one page."""
    show_deprecated = _show_deprecated()
    return render_template(
        "leaderboards/overview.html",
        overview=build_overview(get_session(), show_deprecated=show_deprecated),
    )


@bp.get("/leaderboard/category/<slug>")
def category(slug: str) -> Any:
    """A category's leaderboard: every battle of its competitions."""
    return _page(f"category:{slug}")


@bp.get("/leaderboard/competition/<slug>")
def competition(slug: str) -> Any:
    """One competition's leaderboard."""
    return _page(f"competition:{slug}")
