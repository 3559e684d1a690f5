"""Public pages: the home page and the competitions (a closed one shows its gallery)."""

from __future__ import annotations

from flask import Blueprint, render_template

from arena.services.home import competition_page, home_page, public_competitions
from arena.web.db import get_session

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """Open and closed competitions with their prompts, models and votes."""
    page = home_page(get_session())
    return render_template(
        "home/index.html", open_competitions=page.open_competitions, closed=page.closed
    )


@bp.get("/competitions")
def competitions() -> str:
    """Every public competition, open ones first."""
    rows = public_competitions(get_session())
    return render_template("competitions/index.html", competitions=rows)


@bp.get("/competitions/<slug>")
def competition(slug: str) -> str:
    """One competition: its theme, category and prompts; once closed, its gallery."""
    page = competition_page(get_session(), slug)
    return render_template(
        "competitions/detail.html",
        competition=page.competition,
        status=page.status,
        gallery=page.gallery,
    )
