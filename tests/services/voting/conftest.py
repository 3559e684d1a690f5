"""Fixtures of the voting services' tests: the database and a voter on ``voting_app``."""

from __future__ import annotations

import pytest

from arena.services.voting.voters import ensure_voter
from arena.web.db import get_db


@pytest.fixture
def db(voting_app):
    with voting_app.app_context():
        yield get_db()


@pytest.fixture
def voter(db):
    return ensure_voter(db, None)
