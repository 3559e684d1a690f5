"""Fixtures of the services' tests: a database with real votes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from arena.models import Model, Rating, Scope
from arena.web.db import get_db


@pytest.fixture
def voted(voting_app, votes):
    """80 votes through the real vote path, in two competitions of the Portrait category."""
    votes.cast(
        80,
        competition=lambda i: "heroic-super-hero-portrait" if i % 8 == 0 else "fantasy-warrior-ii",
        choice=("left", "right", "tie"),
        seed=5,
    )
    return voting_app


@pytest.fixture
def voted_session(voted):
    """A session on ``voted``."""
    with voted.app_context(), get_db().session() as session:
        yield session


@pytest.fixture
def model_ratings(voting_app):
    """A function: a model's live rating rows by slug, ``{scope key: (elo, wins, losses, ties,
    battles)}``."""

    def read(slug: str) -> dict[str, tuple]:
        with voting_app.app_context(), get_db().session() as session:
            rows = session.execute(
                select(
                    Scope.key, Rating.elo, Rating.wins, Rating.losses, Rating.ties, Rating.battles
                )
                .join(Scope, Scope.id == Rating.scope_id)
                .join(Model, Model.id == Rating.model_id)
                .where(Model.slug == slug)
            ).all()
        return {key: tuple(rest) for key, *rest in rows}

    return read
