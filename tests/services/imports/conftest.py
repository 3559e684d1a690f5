"""Fixtures of the import tests: the seeded database."""

from __future__ import annotations

import pytest

from arena.web.db import get_db


@pytest.fixture
def db(seeded):
    with seeded.app_context():
        yield get_db()
