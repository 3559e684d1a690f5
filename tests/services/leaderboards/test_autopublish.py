"""Background publishing: the publisher lease, the staleness rules, the publishing loop.

Every test runs on SQLite and PostgreSQL (through the ``app`` fixture) except the loop that
starts before its database has a schema, which needs a database file of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from arena import schema
from arena.db import Database
from arena.models import Scope, Snapshot, Vote
from arena.services.integrity import set_voter_flag
from arena.services.leaderboards.autopublish import (
    Lease,
    Outcome,
    Publisher,
    PublishSettings,
    staleness,
)

#: Fast publications: few bootstrap rounds, short polls and leases.
FAST = PublishSettings(rounds=10, poll=0.05, min_battles=1, min_lease_ttl=5.0)


def settings(**changes) -> PublishSettings:
    return PublishSettings(**{**FAST.__dict__, **changes})


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll ``condition`` until it is truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s")


def overall_snapshots(db: Database) -> list[tuple[int, int | None, int]]:
    """The overall scope's snapshots, oldest first: (id, last_vote_id, votes)."""
    with db.session() as session:
        rows = session.execute(
            select(Snapshot.id, Snapshot.last_vote_id, Snapshot.votes)
            .join(Scope, Scope.id == Snapshot.scope_id)
            .where(Scope.kind == "overall")
            .order_by(Snapshot.id)
        ).all()
    return [tuple(row) for row in rows]


def last_vote_id(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.max(Vote.id)))


@pytest.fixture
def db(app) -> Database:
    return app.extensions["arena.db"]


# The lease


def test_a_lease_has_one_holder_until_released(db):
    a, b = Lease(db, "test", "a"), Lease(db, "test", "b")
    assert a.acquire(30)
    assert not b.acquire(30)
    assert a.acquire(30) and a.renew(30)  # taking it again, or renewing, keeps it
    assert not b.renew(30)
    assert a.current() == ("a", True)
    a.release()
    assert a.current() is None
    assert b.acquire(30)
    assert not a.acquire(30)
    a.release()  # not a's to release: b keeps it
    assert b.current() == ("b", True)


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew(db):
    a, b = Lease(db, "test", "a"), Lease(db, "test", "b")
    assert a.acquire(0.3)
    assert not b.acquire(30)
    wait_for(lambda: a.current() == ("a", False))
    assert b.acquire(30)
    assert not a.renew(30)
    assert not a.holds()
    assert b.holds(margin=20)
    assert b.current() == ("b", True)


@pytest.mark.parametrize("before", ["no row", "expired row"])
def test_racing_processes_get_exactly_one_holder(app, database_url, before):
    """Eight holders, each with its own engine (as separate processes), take the lease at once."""
    if before == "expired row":
        old = Lease(app.extensions["arena.db"], "race", "old")
        assert old.acquire(0.2)
        wait_for(lambda: old.current() == ("old", False))
    racers = 8
    barrier = threading.Barrier(racers)
    databases = [Database(database_url) for _ in range(racers)]

    def race(i: int) -> bool:
        lease = Lease(databases[i], "race", f"racer-{i}")
        lease.current()  # connect before the start, so the race is about the statement
        barrier.wait()
        return lease.acquire(30)

    try:
        with ThreadPoolExecutor(racers) as pool:
            won = list(pool.map(race, range(racers)))
    finally:
        for database in databases:
            database.dispose()
    assert won.count(True) == 1
    winner = f"racer-{won.index(True)}"
    assert Lease(app.extensions["arena.db"], "race").current() == (winner, True)


def test_two_publishers_one_lease(votes, db):
    first, second = Publisher(db, FAST), Publisher(db, FAST)
    votes.cast(3)
    assert first.run_once(when_stale=True).outcome is Outcome.PUBLISHED
    votes.cast(3)
    assert second.run_once(when_stale=True).outcome is Outcome.LEASE_HELD
    assert len(overall_snapshots(db)) == 1
    first.lease.release()
    cycle = second.run_once(when_stale=True)
    assert cycle.outcome is Outcome.PUBLISHED
    assert overall_snapshots(db)[-1][1:] == (last_vote_id(db), 6)


# When to publish


def test_no_votes_nothing_to_publish(voting_app, db):
    publisher = Publisher(db, settings(max_stale=0.1))
    for cycle in (publisher.run_once(), publisher.run_once(when_stale=True)):
        assert cycle.outcome is Outcome.NOT_STALE
        assert not cycle.staleness.stale
    assert overall_snapshots(db) == []


def test_enough_new_votes_publish_at_once(votes, db):
    publisher = Publisher(db, settings(after_votes=5, max_stale=3600))
    votes.cast(4)
    cycle = publisher.run_once()
    assert cycle.outcome is Outcome.WAITING
    assert cycle.staleness.new_votes == 4 and not cycle.staleness.recounted
    assert cycle.wait == pytest.approx(FAST.poll)
    assert overall_snapshots(db) == []
    votes.cast(1)
    cycle = publisher.run_once()
    assert cycle.outcome is Outcome.PUBLISHED
    assert {p.scope for p in cycle.published} >= {"overall", "competition:fantasy-warrior-ii"}
    assert overall_snapshots(db)[-1][1:] == (last_vote_id(db), 5)
    assert publisher.run_once().outcome is Outcome.NOT_STALE
    votes.cast(1)
    assert publisher.run_once().staleness.new_votes == 1


def test_the_time_bound_publishes_a_single_vote_in_time(votes, db):
    """One vote, far fewer than N: published shortly before it is max_stale seconds old."""
    max_stale = 2.0
    publisher = Publisher(db, settings(after_votes=1000, max_stale=max_stale, poll=0.5))
    votes.cast(1)
    cast_at = time.monotonic()
    cycle = publisher.run_once()
    assert cycle.outcome is Outcome.WAITING
    while cycle.outcome is Outcome.WAITING:
        assert 0 < cycle.wait <= 0.5
        time.sleep(cycle.wait)
        cycle = publisher.run_once()
    published_after = time.monotonic() - cast_at
    assert cycle.outcome is Outcome.PUBLISHED
    assert max_stale / 2 < published_after < max_stale + 1.0
    assert overall_snapshots(db)[-1][1:] == (last_vote_id(db), 1)


def test_flagging_or_clearing_a_voter_makes_the_boards_stale(votes, db):
    publisher = Publisher(db, settings(after_votes=1000, max_stale=3600))
    honest, suspect = votes.voter(), votes.voter()
    votes.cast(4, voter=suspect, seed=2)
    votes.cast(6, voter=honest, seed=1)
    assert publisher.run_once(when_stale=True).outcome is Outcome.PUBLISHED
    published_at = overall_snapshots(db)[-1]

    def lag():
        with db.session() as session:
            return staleness(session, cap=1000)

    assert not lag().stale
    set_voter_flag(db, suspect.public_id, flagged=True, reason="test", k=32)
    flagged = lag()
    assert flagged.stale and flagged.recounted and flagged.new_votes == 0
    votes.cast(3, voter=suspect, seed=3)  # not counted: nothing new to publish
    assert lag().new_votes == 0
    assert publisher.run_once(when_stale=True).outcome is Outcome.PUBLISHED
    assert overall_snapshots(db)[-1][2] == 6
    assert not lag().stale
    set_voter_flag(db, suspect.public_id, flagged=False, reason=None, k=32)
    cleared = lag()
    assert cleared.recounted and cleared.new_votes == 3
    assert publisher.run_once(when_stale=True).outcome is Outcome.PUBLISHED
    assert overall_snapshots(db)[-1][1:] == (last_vote_id(db), 13)
    assert overall_snapshots(db)[-1][0] > published_at[0]


def test_no_counted_vote_left_is_not_stale(votes, db):
    """Every voter flagged: there is nothing a publication could show, so nothing is due."""
    publisher = Publisher(db, FAST)
    voter = votes.voter()
    votes.cast(3, voter=voter)
    assert publisher.run_once(when_stale=True).outcome is Outcome.PUBLISHED
    set_voter_flag(db, voter.public_id, flagged=True, reason="test", k=32)
    assert publisher.run_once(when_stale=True).outcome is Outcome.NOT_STALE


# The loop


def test_the_loop_publishes_then_releases_the_lease_when_stopped(votes, db):
    publisher = Publisher(db, settings(after_votes=3, max_stale=3600))
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run_forever, args=(stop,))
    thread.start()
    try:
        votes.cast(3)
        wait_for(lambda: overall_snapshots(db))
        assert Lease(db).current() == (publisher.lease.holder, True)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert Lease(db).current() is None
    assert overall_snapshots(db)[-1][1:] == (last_vote_id(db), 3)


def test_the_loop_outlives_errors_and_recovers(tmp_path, caplog):
    """A database without the schema yet: every cycle fails and is logged; once migrated,
    the loop takes the lease and carries on."""
    db = Database(f"sqlite:///{tmp_path / 'late.db'}")
    publisher = Publisher(db, FAST)
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run_forever, args=(stop,))
    caplog.set_level(logging.ERROR, logger="arena.services.leaderboards.autopublish")
    thread.start()
    try:
        failures = lambda: [  # noqa: E731
            r for r in caplog.records if "background publishing failed" in r.getMessage()
        ]
        wait_for(lambda: len(failures()) >= 2)
        assert "leases" in str(failures()[0].exc_info[1])
        assert thread.is_alive()
        schema.upgrade(db.engine)
        wait_for(lambda: Lease(db).current() == (publisher.lease.holder, True))
    finally:
        stop.set()
        thread.join(10)
        db.dispose()
    assert not thread.is_alive()
