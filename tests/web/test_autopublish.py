"""Boards that publish themselves: a real server with its background publisher thread on.

Votes go over HTTP; the leaderboard JSON shows a new snapshot within the staleness bound,
and the vote request itself never publishes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select

from arena import create_app
from arena.models import Snapshot
from arena.web.db import get_db
from tests.conftest import _empty_tables

MAX_STALE = 1.5


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The tests' app (as tests/conftest.py makes it) with the background publisher on."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "GENERATION_WORKERS": 2,
            "RATE_LIMIT": "off",
            "IP_RATE_LIMIT": "off",
            "MIN_VOTE_MS": 0,
            "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
            "AUTOPUBLISH": True,
            "PUBLISH_AFTER_VOTES": 1000,
            "PUBLISH_MAX_STALE": MAX_STALE,
            "PUBLISH_POLL": 0.1,
            "PUBLISH_BOOTSTRAP": 10,
        }
    )
    yield app
    # Stopped before the tables are emptied: it must not publish into the next test's data.
    app.extensions["arena.publisher"].stop()
    engine = app.extensions["arena.db"].engine
    _empty_tables(engine)
    engine.dispose()


def snapshots(app: Flask) -> int:
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(func.count()).select_from(Snapshot))


def vote(client: httpx.Client) -> int:
    battle = client.post("/api/v1/battles", json={"competition": "fantasy-warrior-ii"})
    assert battle.status_code == 201, battle.text
    voted = client.post(f"/api/v1/battles/{battle.json()['token']}/vote", json={"winner": "left"})
    assert voted.status_code == 200, voted.text
    return voted.json()["vote_id"]


def published_board(client: httpx.Client, after: int | None, timeout: float) -> dict:
    """Poll the overall leaderboard until it shows a snapshot newer than ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        board = client.get("/api/v1/leaderboards/overall").json()
        if board["snapshot_id"] is not None and board["snapshot_id"] != after:
            return board
        time.sleep(0.05)
    raise AssertionError(f"no new snapshot within {timeout} s")


def test_votes_over_http_are_published_in_the_background(voting_app, live_server):
    background = voting_app.extensions["arena.publisher"]
    assert not background.running  # not before the process serves a request
    with httpx.Client(base_url=live_server, timeout=30) as client:
        started = time.monotonic()
        first = vote(client)
        assert background.running
        # The vote answered without publishing: no snapshot until the publisher's turn.
        assert snapshots(voting_app) == 0
        assert client.get("/api/v1/leaderboards/overall").json()["snapshot_id"] is None
        board = published_board(client, None, timeout=MAX_STALE + 5)
        assert time.monotonic() - started < MAX_STALE + 2.0
        assert len([row for row in board["rows"] if row["bt_rating"] is not None]) == 2
        # After its first publication the publisher writes the static dump (ARENA_DUMP_EVERY).
        deadline = time.monotonic() + 20
        while (dump := client.get("/api/v1/dumps")).status_code == 404:
            assert time.monotonic() < deadline, "no dump after the first publication"
            time.sleep(0.2)
        assert dump.status_code == 200 and dump.json()["last_vote_id"] == first

        second = vote(client)
        assert second > first
        newer = published_board(client, board["snapshot_id"], timeout=MAX_STALE + 5)
    with voting_app.app_context(), get_db().session() as session:
        latest = session.get(Snapshot, newer["snapshot_id"])
        assert (latest.last_vote_id, latest.votes, latest.bootstrap_rounds) == (second, 2, 10)
