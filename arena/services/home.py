"""What the public front pages show: the home page, the competitions list, one competition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from arena.db import storable
from arena.errors import NotFound
from arena.models import Competition
from arena.services.status import competition_status


@dataclass(frozen=True)
class HomePage:
    """The home page's competitions, each a ``competition_status`` row, ordered by slug."""

    open_competitions: list[dict[str, Any]]
    closed: list[dict[str, Any]]


@dataclass(frozen=True)
class CompetitionPage:
    """One competition (prompts and category loaded) and its ``competition_status`` row."""

    competition: Competition
    status: dict[str, Any]


def home_page(session: Session) -> HomePage:
    """The open and the closed competitions with their progress and votes (drafts left out)."""
    rows = competition_status(session, public_only=True)
    return HomePage(
        open_competitions=[r for r in rows if r["status"] == "open"],
        closed=[r for r in rows if r["status"] == "closed"],
    )


def public_competitions(session: Session) -> list[dict[str, Any]]:
    """Every competition but drafts as ``competition_status`` rows: open ones first, then by
    name and slug."""
    rows = competition_status(session, public_only=True)
    rows.sort(key=lambda r: (r["status"] != "open", r["name"], r["slug"]))
    return rows


def competition_page(session: Session, slug: str) -> CompetitionPage:
    """One public competition's page: its theme, category, prompts and progress.

    Raises:
        NotFound: no competition has this slug, or it is a draft.
    """
    competition = (
        session.scalar(
            select(Competition)
            .where(Competition.slug == slug, Competition.status != "draft")
            .options(selectinload(Competition.prompts), selectinload(Competition.category))
        )
        if storable(slug)
        else None
    )
    if competition is None:
        raise NotFound(f"There is no competition called {slug!r}.")
    status = next(r for r in competition_status(session) if r["slug"] == slug)
    return CompetitionPage(competition=competition, status=status)
