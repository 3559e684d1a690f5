"""Public pages: the home page and the competitions."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from arena.db import storable
from arena.models import Competition
from arena.services.status import competition_status
from arena.web.db import get_session

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """Open competitions with their generation progress and votes."""
    rows = competition_status(get_session(), public_only=True)
    open_ = [r for r in rows if r["status"] == "open"]
    closed = [r for r in rows if r["status"] == "closed"]
    return render_template("home/index.html", open_competitions=open_, closed=closed)


@bp.get("/competitions")
def competitions() -> str:
    """Every public competition, open ones first."""
    rows = competition_status(get_session(), public_only=True)
    rows.sort(key=lambda r: (r["status"] != "open", r["name"], r["slug"]))
    return render_template("competitions/index.html", competitions=rows)


@bp.get("/competitions/<slug>")
def competition(slug: str) -> str:
    """One competition: its theme, category, prompts and progress."""
    session = get_session()
    comp = (
        session.scalar(
            select(Competition)
            .where(Competition.slug == slug, Competition.status != "draft")
            .options(selectinload(Competition.prompts), selectinload(Competition.category))
        )
        if storable(slug)
        else None
    )
    if comp is None:
        abort(404, description=f"There is no competition called {slug!r}.")
    status = next(r for r in competition_status(session) if r["slug"] == slug)
    return render_template("competitions/detail.html", competition=comp, status=status)
