"""Fixtures of the catalog service tests: a session on the seeded app."""

from __future__ import annotations

import pytest

from arena.web.db import get_db


@pytest.fixture
def session(seeded):
    with seeded.app_context(), get_db().session() as session:
        yield session
