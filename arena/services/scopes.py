"""Leaderboard scopes and the live rating rows that every vote updates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Category, Competition, CompetitionModel, Rating, Scope

OVERALL = "overall"


def scope_key(kind: str, slug: str | None = None) -> str:
    """The public key of a scope: ``overall``, ``category:<slug>``, ``competition:<slug>``."""
    return OVERALL if kind == OVERALL else f"{kind}:{slug}"


def ensure_scopes_and_ratings(session: Session) -> int:
    """Create every missing scope, and a rating row for every (scope, taking-part model).

    A model takes part in a competition's scope when it is entered in the competition, in a
    category's scope when it is entered in any of the category's competitions, and overall
    when it is entered anywhere. Rating rows exist before the first vote so that recording
    a vote is a plain UPDATE of existing rows.

    Returns:
        How many rows (scopes and ratings) were added; the caller commits.
    """
    added = 0
    scopes = {s.key: s for s in session.scalars(select(Scope))}

    def scope(key: str, kind: str, **target: int) -> Scope:
        nonlocal added
        if key not in scopes:
            scopes[key] = Scope(key=key, kind=kind, **target)
            session.add(scopes[key])
            added += 1
        return scopes[key]

    scope(OVERALL, OVERALL)
    for category in session.scalars(select(Category)):
        scope(scope_key("category", category.slug), "category", category_id=category.id)
    wanted: set[tuple[str, int]] = set()
    entries = session.execute(
        select(Competition.slug, Competition.category_id, CompetitionModel.model_id).join(
            CompetitionModel, CompetitionModel.competition_id == Competition.id
        )
    )
    category_slugs = dict(session.execute(select(Category.id, Category.slug)).all())
    competition_ids = dict(session.execute(select(Competition.slug, Competition.id)).all())
    for slug, category_id, model_id in entries:
        scope(scope_key("competition", slug), "competition", competition_id=competition_ids[slug])
        wanted.add((scope_key("competition", slug), model_id))
        wanted.add((scope_key("category", category_slugs[category_id]), model_id))
        wanted.add((OVERALL, model_id))
    for slug, competition_id in competition_ids.items():
        scope(scope_key("competition", slug), "competition", competition_id=competition_id)
    session.flush()
    existing = {
        (key, model_id)
        for key, model_id in session.execute(
            select(Scope.key, Rating.model_id).join(Rating, Rating.scope_id == Scope.id)
        )
    }
    for key, model_id in sorted(wanted - existing):
        session.add(Rating(scope_id=scopes[key].id, model_id=model_id))
        added += 1
    session.flush()
    return added
