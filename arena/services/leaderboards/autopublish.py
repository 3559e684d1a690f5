"""Background publishing: snapshots follow the counted vote log without anyone asking.

A :class:`Publisher` checks, every poll interval, whether the published boards lag the
counted vote log (:func:`staleness`) and publishes through ``publish_snapshots`` once at least
``after_votes`` counted votes are new, or once waiting longer would leave a board more than
``max_stale`` seconds behind its oldest unpublished change. It publishes only while it holds
the ``publisher`` :class:`Lease`, a row of the ``leases`` table, so one process at a time
publishes however many web workers and machines run a publisher. Votes never publish: a
vote request only appends to the log, and the publisher notices.

No Flask here: web workers run a :class:`BackgroundPublisher` thread, ``arena publish-loop``
runs a :class:`Publisher` in the foreground.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from arena.db import Database
from arena.models import Lease as LeaseRow
from arena.models import Scope, Snapshot, Vote, Voter, utcnow
from arena.services.counting import counted_votes
from arena.services.leaderboards.publishing import Published, publish_snapshots
from arena.services.leaderboards.weights import UNBOUNDED, WeightRules
from arena.services.scopes import OVERALL

log = logging.getLogger(__name__)

#: The lease every publisher competes for.
LEASE_NAME = "publisher"
#: The shortest lease: a publisher that dies is replaced within about this many seconds.
MIN_LEASE_TTL = 30.0


def holder_id() -> str:
    """A lease holder's identity: ``hostname:pid:random`` (unique per process and start)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:120]


class Lease:
    """A named lease in the ``leases`` table, held by one holder at a time until it expires.

    Expiry times come from the database's clock on PostgreSQL (machines may disagree about
    the time) and from this machine's on SQLite (one machine). Taking the lease is one
    atomic upsert, so of several processes racing for a free or expired lease exactly one
    wins; renewing and releasing only touch a lease this holder still has.
    """

    def __init__(self, db: Database, name: str = LEASE_NAME, holder: str | None = None) -> None:
        self.db = db
        self.name = name
        self.holder = holder or holder_id()
        #: Until when (``time.monotonic``) this holder surely has the lease; None: not held.
        self._held_until: float | None = None

    def _clock(self, ahead: float = 0.0) -> Any:
        """The time ``ahead`` seconds from now, by the database's clock where there is one."""
        if self.db.is_sqlite:
            return utcnow() + dt.timedelta(seconds=ahead)
        return func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, float(ahead))

    def holds(self, margin: float = 0.0) -> bool:
        """Whether this holder has the lease for at least ``margin`` more seconds (no query)."""
        return self._held_until is not None and time.monotonic() + margin < self._held_until

    def current(self) -> tuple[str, bool] | None:
        """Who holds the lease and whether it is still live (unexpired); None: nobody."""
        with self.db.session() as session:
            row = session.execute(
                select(LeaseRow.holder, LeaseRow.expires_at > self._clock()).where(
                    LeaseRow.name == self.name
                )
            ).first()
        return None if row is None else (row[0], bool(row[1]))

    def acquire(self, ttl: float) -> bool:
        """Take the lease for ``ttl`` seconds if it is free, expired or already ours.

        A live lease of another holder is seen with one read, without writing. Otherwise one
        ``INSERT … ON CONFLICT DO UPDATE … WHERE expired OR ours`` takes it: the database
        decides between racers (PostgreSQL re-checks the condition on the row it locked;
        SQLite has one writer at a time), and the row it returns, or not, says who won.

        Returns:
            True if this holder now has the lease for ``ttl`` seconds.
        """
        current = self.current()
        if current is not None and current[0] != self.holder and current[1]:
            self._held_until = None
            return False
        dialect = sqlite if self.db.is_sqlite else postgresql
        table = LeaseRow.__table__
        statement = dialect.insert(table).values(
            name=self.name, holder=self.holder, expires_at=self._clock(ttl)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
            where=(table.c.holder == self.holder) | (table.c.expires_at < self._clock()),
        )
        return self._write(statement, ttl)

    def renew(self, ttl: float) -> bool:
        """Extend the lease to ``ttl`` seconds from now if this holder still has it.

        Returns:
            False if another holder has taken it over (this one must stop publishing).
        """
        statement = (
            update(LeaseRow)
            .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
            .values(expires_at=self._clock(ttl))
        )
        return self._write(statement, ttl)

    def release(self) -> None:
        """Give the lease up (if this holder has it), so another can take it at once."""
        self._held_until = None
        with self.db.write_transaction() as conn:
            conn.execute(
                delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
            )

    def _write(self, statement: Any, ttl: float) -> bool:
        # Measured before the statement: the database's expiry is at least this late.
        started = time.monotonic()
        with self.db.write_transaction() as conn:
            # RETURNING, not the row count: drivers do not all report an upsert's count.
            won = conn.execute(statement.returning(LeaseRow.holder)).first() is not None
        self._held_until = started + ttl if won else None
        return won


@dataclass(frozen=True)
class Staleness:
    """How far the published boards lag the counted vote log.

    ``new_votes``: counted votes newer than the latest snapshot (counted up to a cap);
    ``recounted``: the counted votes it fitted are no longer the counted ones (a voter was
    flagged or cleared since, or a vote committed late); ``since``: when the oldest change
    not yet published happened (None: the boards are up to date).
    """

    new_votes: int
    recounted: bool
    since: dt.datetime | None

    @property
    def stale(self) -> bool:
        return self.since is not None


@dataclass
class UnflaggedCount:
    """A running count of the votes without a flag up to a vote id.

    Votes are append-only and a vote's flag is set when it is cast, so the count up to an id
    changes only by the votes after the id counted before: it is kept and extended, and the
    whole log is counted once per publisher. It is only extended to a published snapshot's
    ``last_vote_id``, so every vote up to there was inserted before that publication read
    the log (and a vote commits right after its insert): none can still appear below it.
    """

    upto: int = 0
    votes: int = 0

    def through(self, session: Session, last: int) -> int:
        """The votes without a flag whose id is at most ``last``."""
        if last < self.upto:  # the log was emptied (tests) or restored: count afresh
            self.upto = self.votes = 0
        self.votes += session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.id > self.upto, Vote.id <= last, Vote.flag.is_(None))
        )
        self.upto = last
        return self.votes


def staleness(session: Session, *, cap: int, unflagged: UnflaggedCount | None = None) -> Staleness:
    """Compare the overall scope's latest snapshot with the counted vote log, cheaply.

    The overall snapshot fits every counted vote, so its ``last_vote_id`` and ``votes`` say
    what the latest publication saw. New votes are counted on the primary key after
    ``last_vote_id`` (at most ``cap``); the counted votes up to it are the unflagged ones
    (kept in ``unflagged`` and only extended, see :class:`UnflaggedCount`) less those of
    voters flagged now (through the index on ``voter_id``), never a scan of the whole log.

    Args:
        cap: stop counting new votes here (the publisher's ``after_votes``).
        unflagged: a running count kept between calls (a fresh one counts the whole log).

    Returns:
        The lag; a change seen only as a different count is dated at the snapshot.
    """
    latest = session.execute(
        select(Snapshot.last_vote_id, Snapshot.votes, Snapshot.computed_at)
        .join(Scope, Scope.id == Snapshot.scope_id)
        .where(Scope.kind == OVERALL)
        .order_by(Snapshot.id.desc())
        .limit(1)
    ).first()
    # A snapshot from before last_vote_id was recorded says nothing: every vote is new.
    last = (latest.last_vote_id or 0) if latest is not None else 0
    newer = (
        select(Vote.created_at)
        .where(Vote.id > last, counted_votes())
        .order_by(Vote.id)
        .limit(cap)
        .subquery()
    )
    new_votes, first_new = session.execute(select(func.count(), func.min(newer.c.created_at))).one()
    recounted = False
    if last:
        flagged = select(Voter.id).where(Voter.flagged.is_(True))
        left_out = session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.voter_id.in_(flagged), Vote.flag.is_(None), Vote.id <= last)
        )
        counted = (unflagged or UnflaggedCount()).through(session, last) - left_out
        # No counted vote left at all: there is nothing to publish, so nothing is stale.
        recounted = counted != latest.votes and (counted > 0 or new_votes > 0)
    changes = []
    if new_votes:
        changes.append(first_new)
    if recounted:
        changes.append(latest.computed_at)
    return Staleness(new_votes, recounted, min(changes, default=None))


@dataclass(frozen=True)
class PublishSettings:
    """When and how the publisher publishes (``ARENA_PUBLISH_*``; see arena/config.py).

    ``after_votes``: publish once this many counted votes are new; ``max_stale``: seconds a
    board may lag its oldest unpublished change; ``poll``: seconds between checks;
    ``rounds``: bootstrap rounds of each publication; ``min_battles`` and ``k`` as in
    ``arena recompute``; ``rules``: probation, weight caps and automatic flags (from the app's
    settings; see arena.services.leaderboards.weights); ``min_lease_ttl``: the shortest
    lease (tests shorten it).
    """

    after_votes: int = 100
    max_stale: float = 60.0
    poll: float = 5.0
    rounds: int = 1000
    min_battles: int = 10
    k: float = 32.0
    rules: WeightRules = UNBOUNDED
    min_lease_ttl: float = MIN_LEASE_TTL

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PublishSettings:
        """The settings of an app config (``PUBLISH_*``, ``MIN_BATTLES``, ``ELO_K`` and the
        weight rules' settings)."""
        return cls(
            after_votes=config["PUBLISH_AFTER_VOTES"],
            max_stale=config["PUBLISH_MAX_STALE"],
            poll=config["PUBLISH_POLL"],
            rounds=config["PUBLISH_BOOTSTRAP"],
            min_battles=config["MIN_BATTLES"],
            k=config["ELO_K"],
            rules=WeightRules.from_config(config),
        )


class Outcome(enum.Enum):
    """What one publisher cycle did."""

    PUBLISHED = "published"
    NOT_STALE = "not stale"
    WAITING = "waiting"  # stale, but neither enough new votes nor the time bound yet
    LEASE_HELD = "lease held elsewhere"


@dataclass(frozen=True)
class Cycle:
    """One cycle's outcome, the lag it saw, what it published and when to check again."""

    outcome: Outcome
    wait: float
    staleness: Staleness | None = None
    published: list[Published] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people (``arena publish-loop --once``)."""
        if self.outcome is Outcome.PUBLISHED:
            votes = max((p.votes for p in self.published), default=0)
            return f"Published {len(self.published)} snapshots ({votes} counted votes)."
        if self.outcome is Outcome.NOT_STALE:
            return "The boards are up to date: nothing to publish."
        if self.outcome is Outcome.LEASE_HELD:
            return "Another publisher holds the lease: nothing done."
        new = self.staleness.new_votes if self.staleness else 0
        return f"Stale ({new} new counted votes), not yet due: nothing published."


class Publisher:
    """Publishes snapshots when the boards are stale enough, holding the publisher lease.

    Args:
        db: the database (the publisher opens its own sessions).
        settings: when and how to publish.
        holder: the lease holder's identity (default: ``hostname:pid:random``).
        after_publish: called after each publication (it must not raise), e.g.
            ``arena.services.dumps.publisher_hook``.
    """

    def __init__(
        self,
        db: Database,
        settings: PublishSettings,
        holder: str | None = None,
        after_publish: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.lease = Lease(db, LEASE_NAME, holder)
        #: Called after each publication, still holding the lease (the static dump).
        self.after_publish = after_publish
        #: Seconds the last publication took: publishing starts that much before the bound.
        self.last_duration = 0.0
        self._unflagged = UnflaggedCount()

    def _lease_ttl(self) -> float:
        """Long enough to outlast several checks and, with half of it left, a publication."""
        s = self.settings
        return max(s.min_lease_ttl, 3 * s.poll, 3 * self.last_duration)

    def _hold_lease(self) -> bool:
        """Keep (renewing past half its time) or take the lease; False if another has it."""
        ttl = self._lease_ttl()
        if self.lease.holds(margin=ttl / 2):
            return True
        return self.lease.acquire(ttl)

    def _due_in(self, lag: Staleness) -> float:
        """Seconds until publishing is due (0: now): enough new votes, or the time bound.

        A publication started now ends ``last_duration`` later; a check that passes it by
        comes back within one poll interval at most, and sooner when the bound is closer
        (the cycle's ``wait``). A little slack covers the check itself.
        """
        s = self.settings
        if lag.new_votes >= s.after_votes:
            return 0.0
        assert lag.since is not None
        age = (utcnow() - lag.since).total_seconds()
        slack = min(1.0, 0.1 * s.max_stale)
        return max(0.0, s.max_stale - age - self.last_duration - slack)

    def run_once(self, *, when_stale: bool = False) -> Cycle:
        """One cycle: take or keep the lease, check the lag, publish if due.

        Args:
            when_stale: publish whenever the boards are stale, without waiting for
                ``after_votes`` or the time bound (``arena publish-loop --once``).

        Returns:
            What the cycle did and how long to wait before the next one.
        """
        poll = self.settings.poll
        if not self._hold_lease():
            return Cycle(Outcome.LEASE_HELD, poll)
        with self.db.session() as session:
            lag = staleness(session, cap=self.settings.after_votes, unflagged=self._unflagged)
        if not lag.stale:
            return Cycle(Outcome.NOT_STALE, poll, lag)
        due_in = 0.0 if when_stale else self._due_in(lag)
        if due_in > 0:
            return Cycle(Outcome.WAITING, min(poll, due_in), lag)
        started = time.perf_counter()
        with self.db.session() as session:
            published = publish_snapshots(
                session,
                rounds=self.settings.rounds,
                min_battles=self.settings.min_battles,
                k=self.settings.k,
                rules=self.settings.rules,
            )
        self.last_duration = time.perf_counter() - started
        log.info(
            "published %d snapshots in %.2f s (%d new counted votes%s, oldest change at %s)",
            len(published),
            self.last_duration,
            lag.new_votes,
            ", counts changed" if lag.recounted else "",
            lag.since.isoformat(),
        )
        if self.after_publish is not None:
            self.after_publish()
        return Cycle(Outcome.PUBLISHED, poll, lag, published)

    def run_forever(self, stop: threading.Event) -> None:
        """Run cycles until ``stop`` is set, then release the lease.

        A cycle that fails is logged with its traceback and the next one runs a poll
        interval later: the loop outlives a database that is down or not migrated yet.
        """
        try:
            while not stop.is_set():
                try:
                    wait = self.run_once().wait
                except Exception:
                    log.exception(
                        "background publishing failed; trying again in %.1f s",
                        self.settings.poll,
                    )
                    wait = self.settings.poll
                stop.wait(wait)
        finally:
            try:
                self.lease.release()
            except Exception:
                log.exception("could not release the publisher lease (it expires by itself)")


class BackgroundPublisher:
    """A daemon thread running a :class:`Publisher` in this process, started at most once.

    ``ensure_running`` is cheap enough to call on every request: web workers start their
    thread on the first request they serve, so neither the reloader's watching parent nor a
    CLI command ever publishes, and a forked child starts its own thread.
    """

    def __init__(
        self,
        db: Database,
        settings: PublishSettings,
        after_publish: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.after_publish = after_publish
        self._pid: int | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start this process's publisher thread unless it runs (or was stopped)."""
        if self._pid == os.getpid() or self._stopped:
            return
        with self._lock:
            if self._pid == os.getpid() or self._stopped:
                return
            self._stop = threading.Event()
            publisher = Publisher(self.db, self.settings, after_publish=self.after_publish)
            self._thread = threading.Thread(
                target=self._run, args=(publisher, self._stop), name="arena-publisher", daemon=True
            )
            self._thread.start()
            self._pid = os.getpid()

    @property
    def running(self) -> bool:
        """Whether this process's publisher thread is alive."""
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread for good: it finishes its cycle and releases the lease."""
        self._stopped = True
        self._stop.set()
        if self.running:
            assert self._thread is not None
            self._thread.join(timeout)

    @staticmethod
    def _run(publisher: Publisher, stop: threading.Event) -> None:
        log.info("background publisher %s started", publisher.lease.holder)
        publisher.run_forever(stop)
        log.info("background publisher %s stopped", publisher.lease.holder)
