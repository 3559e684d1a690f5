"""Fixtures of the services' tests: a database with real votes."""

from __future__ import annotations

import pytest

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
