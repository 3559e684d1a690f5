"""kill -9 of gunicorn workers while voters vote: no acknowledged vote is lost.

A real ``arena serve --workers 2`` on each database; six voters in threads cast battle +
vote pairs while the test SIGKILLs a random booted worker every second or so, six times
(gunicorn starts a new one). A killed request is cut off (the client sees the connection
drop); its vote is either wholly in the log or not at all. Afterwards every vote that got a
200 is in the log, the server serves again, and ``arena verify`` replays the log to every
stored Elo and record (and SQLite's integrity check passes).
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import fresh_database_url
from tests.faults.conftest import Voters, assert_nothing_lost, prepare, server_env

pytestmark = pytest.mark.faults

WORKERS = 2
KILLS = 6
#: A worker is killed only once it has had this long to boot (import the app).
BOOTED_AFTER_S = 3.0


def test_killing_workers_mid_vote_loses_no_acknowledged_vote(
    backend: str, postgres, tmp_path: Path, small_seeds: Path, serve
) -> None:
    url = fresh_database_url(backend, postgres, tmp_path, "faults_kill")
    prepare(url, small_seeds, tmp_path / "media")
    env = server_env(url, tmp_path)
    server = serve(env, WORKERS, tmp_path / "server.log")
    rng = random.Random(7)
    killed: list[int] = []
    seen: dict[int, float] = {}
    with Voters(server.url, 6) as voters:
        deadline = time.monotonic() + 60
        while len(killed) < KILLS and time.monotonic() < deadline:
            now = time.monotonic()
            for pid in server.workers():
                seen.setdefault(pid, now)
            # Only workers up long enough to have booted the app (a few seconds on a busy
            # machine): they are serving votes, not still importing.
            serving = [pid for pid, since in seen.items() if now - since > BOOTED_AFTER_S]
            serving = [pid for pid in serving if pid in server.workers()]
            if serving:
                victim = rng.choice(serving)
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                del seen[victim]
            time.sleep(rng.uniform(0.5, 1.0))
        time.sleep(0.5)
    assert len(killed) == KILLS
    tally = voters.tally
    # The kills hit requests in flight (a cut connection each), and votes went through
    # between them.
    assert tally.cut >= 1, tally
    assert len(tally.accepted) >= 30, tally
    assert tally.hung == 0, tally
    # Refusals other than the cut connections would be a bug the kills exposed.
    assert tally.refusals == [], tally.refusals[:5]

    # The server recovers: gunicorn replaces the killed workers, and votes go through.
    server.wait_ready(1)
    with Voters(server.url, 2, seed=100) as after:
        time.sleep(1.0)
    assert len(after.tally.accepted) >= 2 and after.tally.cut == 0, after.tally
    server.stop()

    tally.accepted += after.tally.accepted
    assert_nothing_lost(url, env, tally)
    if backend == "sqlite":
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        engine.dispose()
