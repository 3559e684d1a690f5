"""What the public front pages show: the home page, the competitions list, one competition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from arena.db import storable
from arena.errors import NotFound
from arena.models import Competition
from arena.services.editions import competition_editions
from arena.services.gallery import CompetitionGallery, competition_gallery
from arena.services.status import competition_status


@dataclass(frozen=True)
class HomePage:
    """The home page's competitions, each a ``competition_status`` row with its ``label``
    (name and edition), ordered by slug."""

    open_competitions: list[dict[str, Any]]
    closed: list[dict[str, Any]]


@dataclass(frozen=True)
class CompetitionPage:
    """One competition (prompts and category loaded), its ``competition_status`` row with its
    ``label``, and, once it is closed, its gallery at the first prompt with images."""

    competition: Competition
    status: dict[str, Any]
    gallery: CompetitionGallery | None = None


def _labelled(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each competition's ``label``, its name with its edition when the name is
    shared ("Fantasy Warrior · edition 2"), and that ``edition`` ("edition 2", else None), so
    readers tell editions apart without slugs."""
    labels = competition_editions(session)
    return [
        {**row, "label": labels[row["slug"]].label, "edition": labels[row["slug"]].edition_label}
        for row in rows
    ]


def home_page(session: Session) -> HomePage:
    """The open and the closed competitions with their progress and votes (drafts left out)."""
    rows = _labelled(session, competition_status(session, public_only=True))
    return HomePage(
        open_competitions=[r for r in rows if r["status"] == "open"],
        closed=[r for r in rows if r["status"] == "closed"],
    )


def public_competitions(session: Session) -> list[dict[str, Any]]:
    """Every competition but drafts as ``competition_status`` rows: open ones first, then by
    name and slug."""
    rows = _labelled(session, competition_status(session, public_only=True))
    rows.sort(key=lambda r: (r["status"] != "open", r["label"], r["slug"]))
    return rows


def competition_page(session: Session, slug: str) -> CompetitionPage:
    """One public competition's page: its theme, category, prompts and counts, and its gallery
    once it is closed (None while open, or closed without images).

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
    status = next(r for r in _labelled(session, competition_status(session)) if r["slug"] == slug)
    gallery = None
    if competition.status == "closed":
        try:
            gallery = competition_gallery(session, slug)
        except NotFound:  # closed, but no image was made
            gallery = None
    return CompetitionPage(competition=competition, status=status, gallery=gallery)
