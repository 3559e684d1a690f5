"""Prometheus metrics: request counts and latency per route, and figures read from the database.

Two kinds of figures, kept apart on purpose:

* Request counters and latency histograms are updated by every request (the hooks in
  ``arena.web.ops``). Under gunicorn each worker is its own process, so they live in
  prometheus_client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` (set by ``arena serve``
  before any worker starts, a fresh folder per server start) holds one file per worker and
  a scrape adds them up; gunicorn's ``child_exit`` hook (``arena.gunicorn_conf``) marks a
  dead worker. Without the variable (one process: tests, the development server) they live
  in the default registry.
* Votes, battles, outputs and the newest snapshot are counted in the database at scrape time
  (:class:`DatabaseCollector`): they are the same whichever worker answers the scrape, need
  no bookkeeping in the vote path, and survive restarts. Each process re-reads them at most
  every few seconds, so a flood of scrapes cannot become a flood of table scans.

Nothing here imports Flask: the web glue is ``arena.web.ops``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.db import Database
from arena.models import Battle, Output, Snapshot, Vote, Voter
from arena.models.arena import OUTPUT_STATUSES, VOTE_FLAGS

log = logging.getLogger(__name__)

#: The environment variable that switches prometheus_client to multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Methods labelled by name; any other (a client may send anything) is ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request that matched no URL rule (a 404, a 405).
UNMATCHED = "(unmatched)"
#: Why a vote is not counted: its own flag, or its voter's (checked in this order).
NOT_COUNTED_REASONS = (*VOTE_FLAGS, "flagged_voter")
#: Battle sizes labelled on ``arena_battles_issued_total``.
BATTLE_SIZES = (2, 4)

# No ``*_created`` series beside every counter and histogram: they double the series for
# what process_start_time_seconds (or the scrape) already tells.
disable_created_metrics()

REQUESTS = Counter(
    "arena_http_requests",
    "HTTP requests answered, by URL rule (never the raw path), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "arena_http_request_duration_seconds",
    "Time from the start of a request to its response (before streaming), by URL rule.",
    ["route", "method"],
)


def multiprocess_dir() -> str | None:
    """The multiprocess folder when this process runs in multiprocess mode, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request and time it."""
    route = route or UNMATCHED
    method = method if method in METHODS else "other"
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


@dataclass(frozen=True)
class DatabaseFigures:
    """What the database says at one moment (see :func:`read_figures`)."""

    votes_counted: int
    votes_not_counted: dict[str, int]
    battles: dict[int, int]
    outputs: dict[str, int]
    newest_snapshot: dt.datetime | None


def _counts(session: Session, column: Any) -> dict[Any, int]:
    """Rows per value of ``column`` (its table's whole content)."""
    rows = session.execute(select(column, func.count()).group_by(column))
    return {value: int(n) for value, n in rows}


def read_figures(db: Database) -> DatabaseFigures:
    """Count votes by reason, battles by size and outputs by status, and find the newest
    snapshot, in one session (a handful of aggregate queries, nothing written).

    Votes: a vote with a flag is not counted for that reason; an unflagged vote of a flagged
    voter is not counted as ``flagged_voter`` (lifting the flag counts it again, so that
    series may go down); every other vote is counted. A best-of-four vote is several rows.
    """
    with db.session() as session:
        by_flag = _counts(session, Vote.flag)
        # Flagged voters are few; their votes are found through ix_votes_voter_id_created_at.
        of_flagged = session.scalar(
            select(func.count())
            .select_from(Vote)
            .join(Voter, Voter.id == Vote.voter_id)
            .where(Voter.flagged.is_(True), Vote.flag.is_(None))
        )
        battles = _counts(session, Battle.size)
        outputs = _counts(session, Output.status)
        newest = session.scalar(select(Snapshot.computed_at).order_by(Snapshot.id.desc()).limit(1))
    not_counted = {reason: int(by_flag.get(reason, 0)) for reason in VOTE_FLAGS}
    not_counted["flagged_voter"] = int(of_flagged or 0)
    return DatabaseFigures(
        votes_counted=int(by_flag.get(None, 0)) - not_counted["flagged_voter"],
        votes_not_counted=not_counted,
        battles={int(size): int(n) for size, n in battles.items()},
        outputs={str(status): int(n) for status, n in outputs.items()},
        newest_snapshot=newest,
    )


class DatabaseCollector:
    """A prometheus_client collector of :func:`read_figures`, re-read at most every
    ``max_age`` seconds by this process; a failed read yields ``arena_database_up 0``."""

    def __init__(self, db: Database, max_age: float = 5.0) -> None:
        self.db = db
        self.max_age = max_age
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._figures: DatabaseFigures | None = None

    def figures(self) -> DatabaseFigures:
        """The figures, from this process's cache when fresh enough.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database could not be read.
        """
        with self._lock:
            if self._figures is None or time.monotonic() - self._read_at >= self.max_age:
                self._figures = read_figures(self.db)
                self._read_at = time.monotonic()
            return self._figures

    def collect(self) -> Iterator[Metric]:
        """The metric families (called by the registry at every scrape)."""
        up = GaugeMetricFamily(
            "arena_database_up", "1 when the scrape could read the database's figures, else 0."
        )
        try:
            figures = self.figures()
        except Exception:  # any failure to read: say so in the scrape instead of a 500
            log.exception("metrics: could not read the database's figures")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _families(figures, dt.datetime.now(dt.UTC))


def _families(figures: DatabaseFigures, now: dt.datetime) -> Iterable[Metric]:
    counted = CounterMetricFamily(
        "arena_votes_counted", "Votes in the log that count towards the ratings (pairwise rows)."
    )
    counted.add_metric([], figures.votes_counted)
    yield counted
    not_counted = CounterMetricFamily(
        "arena_votes_not_counted",
        "Votes kept in the log but not counted, by reason (fast, daily_cap, flagged_voter).",
        labels=["reason"],
    )
    for reason in NOT_COUNTED_REASONS:
        not_counted.add_metric([reason], figures.votes_not_counted.get(reason, 0))
    yield not_counted
    battles = CounterMetricFamily(
        "arena_battles_issued",
        "Battles issued to voters, by size (2 or 4 images).",
        labels=["size"],
    )
    for size in sorted(set(BATTLE_SIZES) | set(figures.battles)):
        battles.add_metric([str(size)], figures.battles.get(size, 0))
    yield battles
    outputs = GaugeMetricFamily(
        "arena_generation_outputs",
        "Generation jobs (outputs) by state: pending, done or failed.",
        labels=["state"],
    )
    for state in sorted(set(OUTPUT_STATUSES) | set(figures.outputs)):
        outputs.add_metric([state], figures.outputs.get(state, 0))
    yield outputs
    if figures.newest_snapshot is not None:
        age = GaugeMetricFamily(
            "arena_snapshot_age_seconds",
            "Seconds since the newest leaderboard snapshot was published (absent: none yet).",
        )
        age.add_metric([], max(0.0, (now - figures.newest_snapshot).total_seconds()))
        yield age


class _Forward:
    """Hands the default registry's metrics to another registry (no name checks twice)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def render(database: DatabaseCollector, accept: str | None = None) -> tuple[bytes, str]:
    """The request metrics (every worker's, in multiprocess mode) and the database figures,
    and their content type: the text format, or OpenMetrics when ``accept`` asks for it."""
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(_Forward())
    registry.register(database)
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
