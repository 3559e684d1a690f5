"""Generation started from the admin: a background run in the web process, progress from the DB.

``start`` plans the missing (or only the failed) outputs of one competition in the request,
then makes them in a background thread with its own database session, through the same
``plan_jobs``/``run_jobs`` as ``arena generate`` (which commits outputs as they land).

``progress`` reads everything it shows from the database: outputs done, failed and missing,
and each failed output's error and attempts. Whether a run is going on is a lock held for
the run's length: a file lock beside a SQLite database (one machine), a PostgreSQL
advisory lock otherwise. Any web worker can therefore show the progress and refuse a second
run of the same competition, whichever worker started the first.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from arena.db import Database
from arena.errors import Conflict, NotFound
from arena.models import Competition, Model, Output, Prompt, utcnow
from arena.services import generation
from arena.services.status import competition_status

log = logging.getLogger(__name__)

#: First key of the PostgreSQL advisory locks taken by generation runs ("GEN" in ASCII).
_ADVISORY_CLASS = 0x47454E
#: Retries per output within a run, as ``arena generate`` does by default.
RETRIES = 2
#: How many failed outputs the progress panel lists.
MAX_FAILURES_SHOWN = 200


class RunLock:
    """Held by whichever process is generating one competition, for the run's length."""

    def __init__(self, db: Database, competition_id: int) -> None:
        self.db = db
        self.competition_id = competition_id
        self._fd: int | None = None
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; True if taken."""
        if self.db.is_sqlite:
            fd = os.open(self._path(), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        conn = self.db.engine.connect()
        taken = conn.execute(
            select(func.pg_try_advisory_lock(_ADVISORY_CLASS, self.competition_id))
        ).scalar_one()
        conn.commit()  # a session-level lock: it outlives the transaction, not the connection
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Let go of the lock (safe to call when not held)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(
                    select(func.pg_advisory_unlock(_ADVISORY_CLASS, self.competition_id))
                )
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None

    def held_elsewhere(self) -> bool:
        """True if some run holds the lock now (checked by taking and dropping it)."""
        if not self.acquire():
            return True
        self.release()
        return False

    def _path(self) -> str:
        database = self.db.url.database or "memory"
        return f"{database}.generate-{self.competition_id}.lock"


@dataclass
class Run:
    """A run started by this app (web worker): what it planned and, once over, how it went."""

    competition: str
    planned: int
    failed_only: bool
    provider: str | None
    started_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    report: generation.GenerationReport | None = None
    crash: str | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


_runs_lock = threading.Lock()


def _runs(db: Database) -> dict[int, Run]:
    """The latest run per competition id started by this app (kept with its Database)."""
    return db.cache.setdefault("admin_generation_runs", {})


@dataclass(frozen=True)
class Started:
    """What ``start`` did: ``planned`` outputs (0: nothing to do, no run started)."""

    planned: int
    unserved: list[str]


def _competition(session: Session, slug: str) -> Competition:
    competition = session.scalar(select(Competition).where(Competition.slug == slug))
    if competition is None:
        raise NotFound(f"There is no competition called {slug!r}.", field="competition")
    return competition


def start(
    session: Session,
    db: Database,
    config: Mapping[str, Any],
    slug: str,
    *,
    provider: str | None = None,
    failed_only: bool = False,
) -> Started:
    """Plan a competition's missing outputs and make them in a background thread.

    Args:
        session: the request's session, used for planning only.
        db: the app's database; the run opens its own sessions on it.
        config: the app config (media folder, providers, workers, backoff).
        provider: use only this provider (None: the configured offerings, and the builtin
            stand-in for models without one).
        failed_only: retry only the outputs that failed before.

    Returns:
        How many outputs the run makes (0 when nothing is missing: no run starts) and the
        models the chosen provider cannot serve.

    Raises:
        NotFound: no such competition.
        ValidationError: an unknown provider (``field="provider"``).
        Conflict: a run of this competition is already going on (in any web worker).
    """
    competition = _competition(session, slug)
    plan = generation.plan_jobs(session, [competition], config, provider or None)
    jobs = plan.jobs
    if failed_only:
        failed = set(
            session.execute(
                select(Output.prompt_id, Output.model_id)
                .join(Prompt, Prompt.id == Output.prompt_id)
                .where(Prompt.competition_id == competition.id, Output.status == "failed")
            ).all()
        )
        jobs = [j for j in jobs if (j.prompt_id, j.model_id) in failed]
    if not jobs:
        return Started(0, sorted(plan.unserved))
    lock = RunLock(db, competition.id)
    if not lock.acquire():
        raise Conflict(
            f"Outputs of {slug!r} are being generated already; follow the progress below.",
            field="competition",
        )
    run = Run(competition.slug, len(jobs), failed_only, provider or None)
    with _runs_lock:
        _runs(db)[competition.id] = run
    thread = threading.Thread(
        target=_work,
        args=(db, dict(config), jobs, run, lock),
        name=f"generate-{competition.slug}",
        daemon=True,
    )
    try:
        thread.start()
    except BaseException:
        lock.release()
        run.finished_at = utcnow()
        raise
    return Started(len(jobs), sorted(plan.unserved))


def _work(
    db: Database, config: dict[str, Any], jobs: list[generation.Job], run: Run, lock: RunLock
) -> None:
    """The background run: make the jobs' images, committing as they land; never raises."""
    try:
        with db.session() as session:
            run.report = generation.run_jobs(
                session,
                jobs,
                config,
                workers=config["GENERATION_WORKERS"],
                retries=RETRIES,
                backoff_s=config.get("GENERATION_BACKOFF_S", 0.5),
            )
    except Exception as exc:  # the thread has nobody to raise to: record it for the page
        log.exception("generation of %s stopped", run.competition)
        run.crash = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            lock.release()
        finally:
            run.finished_at = utcnow()


@dataclass(frozen=True)
class FailedOutput:
    """One output that failed, with the provider's error and the attempts made."""

    output_id: int
    model_slug: str
    model_name: str
    prompt_key: str
    provider: str | None
    attempts: int
    error: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class Progress:
    """Everything the progress panel shows."""

    slug: str
    name: str
    status: dict[str, Any]
    running: bool
    failures: list[FailedOutput]
    failures_total: int
    last_run: Run | None

    @property
    def total(self) -> int:
        return self.status["outputs_done"] + self.status["outputs_missing"]


def progress(session: Session, db: Database, slug: str) -> Progress:
    """A competition's generation progress, from the database.

    Raises:
        NotFound: no such competition.
    """
    competition = _competition(session, slug)
    # Whether a run is going on is decided first: a run seen as over has committed every
    # output, so the counts read next are final.
    with _runs_lock:
        last_run = _runs(db).get(competition.id)
    running = (last_run is not None and last_run.running) or RunLock(
        db, competition.id
    ).held_elsewhere()
    status = next(row for row in competition_status(session) if row["slug"] == slug)
    failed = (
        select(
            Output.id,
            Model.slug,
            Model.name,
            Prompt.key,
            Output.provider,
            Output.attempts,
            Output.error,
            Output.updated_at,
        )
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(Model, Model.id == Output.model_id)
        .where(Prompt.competition_id == competition.id, Output.status == "failed")
    )
    failures_total = session.scalar(select(func.count()).select_from(failed.subquery()))
    rows = session.execute(
        failed.order_by(Prompt.position, Model.slug).limit(MAX_FAILURES_SHOWN)
    ).all()
    return Progress(
        slug=competition.slug,
        name=competition.name,
        status=status,
        running=running,
        failures=[FailedOutput(*row) for row in rows],
        failures_total=failures_total,
        last_run=last_run,
    )
