"""Database access without Flask: the engine and sessions of one URL, SQLite pragmas, the
vote path's prepared statements. The per-request glue lives in ``arena.web.db``."""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ArenaError

T = TypeVar("T")
log = logging.getLogger(__name__)

#: The values of ``ARENA_SQLITE_SYNCHRONOUS`` (SQLite's ``PRAGMA synchronous``), safest first.
SQLITE_SYNCHRONOUS = ("full", "normal")


class DatabaseUnavailable(ArenaError):
    """The database cannot answer right now (down, restarting, unreachable, busy or out of
    space): a 503 the client may retry shortly (``arena.web.db`` maps the driver's errors)."""

    status = 503
    code = "database_unavailable"


class Database:
    """The engine and session factory for one database URL."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "full", **engine_options: Any
    ) -> None:
        """Create the engine of ``url`` (nothing connects yet).

        Args:
            url: the database URL.
            sqlite_synchronous: SQLite's ``PRAGMA synchronous`` (see ``SQLITE_SYNCHRONOUS``).
            engine_options: passed to ``create_engine``.

        Raises:
            ValueError: ``sqlite_synchronous`` is not one of ``SQLITE_SYNCHRONOUS``.
        """
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"sqlite_synchronous must be one of {SQLITE_SYNCHRONOUS}")
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            engine_options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        else:
            engine_options.setdefault("pool_pre_ping", True)
        self.engine: Engine = create_engine(self.url, **engine_options)
        if self.is_sqlite:
            _configure_sqlite(self.engine, sqlite_synchronous)
        elif self.url.get_backend_name() == "postgresql":
            _configure_postgresql(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        #: Small per-process caches of rarely changing lookups (see services.voting.recording).
        self.cache: dict[str, Any] = {}
        self._thread_lock = threading.Lock()
        self._lock_file: int | None = None

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialise writers to a SQLite file across threads and processes; no-op otherwise.

        SQLite allows one writer at a time, and its busy handler waits for the lock by
        sleeping in growing steps (up to 100 ms), which under many concurrent voters wastes
        most of the time asleep. A kernel file lock (``flock``) beside the database wakes the
        next writer the moment the lock is released. PostgreSQL needs nothing: it locks rows.
        """
        if not self.is_sqlite or self.url.database in (None, "", ":memory:"):
            yield
            return
        with self._thread_lock:
            if self._lock_file is None:
                self._lock_file = os.open(f"{self.url.database}.writelock", os.O_RDWR | os.O_CREAT)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of work outside a request (closed afterwards, not committed)."""
        with self.sessionmaker() as session:
            yield session

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A Core connection in a write transaction, committed on success.

        On SQLite the writer queues on ``write_lock`` and then takes the database's write
        lock up front (``BEGIN IMMEDIATE``), so it never fails halfway for want of the lock.
        """
        with self.write_lock(), self.engine.connect() as conn:
            conn.info["sqlite_immediate"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("sqlite_immediate", None)

    def timestamp(self, value: dt.datetime) -> Any:
        """An aware datetime as the driver stores it (SQLite: SQLAlchemy's text format)."""
        if self.is_sqlite:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    @staticmethod
    def read_timestamp(value: Any) -> dt.datetime:
        """A timestamp from a driver row as an aware UTC datetime."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def retry_when_busy(self, work: Callable[[], T], attempts: int = 8) -> T:
        """Run ``work`` (a whole write transaction); on SQLite, run it again with backoff when
        the database is busy (locked), up to ``attempts`` times. Other errors pass through."""
        for attempt in range(attempts):
            try:
                return work()
            except OperationalError as exc:
                busy = self.is_sqlite and "locked" in str(exc.orig).lower()
                if not busy or attempt == attempts - 1:
                    raise
                time.sleep(0.01 * 2**attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


class Prepared:
    """A Core statement compiled once per dialect and run on the raw driver cursor.

    For the vote path only. ``Connection.execute`` costs about a tenth of a millisecond per
    statement in cache lookups, execution contexts, result wrapping and type processing;
    the vote path runs five statements per request, so it compiles them once and hands the
    driver plain values (see ``Database.timestamp``), inside the connection's transaction.
    Rows come back as plain tuples in the statement's column order.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _for(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            # Literals in the statement (``kind = 'overall'``) are bound parameters with
            # values of their own: keep them as defaults under the caller's parameters.
            defaults = {k: v for k, v in c.params.items() if v is not None}
            compiled = (str(c), tuple(c.positiontup) if dialect.positional else None, defaults)
            self._compiled[dialect.name] = compiled
        return compiled

    def execute(self, conn: Any, params: dict[str, Any] | list[dict[str, Any]]) -> list[tuple]:
        """Run on a SQLAlchemy ``Connection`` in a transaction; a list runs as executemany.

        Returns the rows (tuples) the statement produced, if any.
        """
        sql, order, defaults = self._for(conn.dialect)
        many = isinstance(params, list)
        rows = [{**defaults, **p} for p in params] if many else [{**defaults, **params}]
        if order is not None:
            rows = [tuple(row[name] for name in order) for row in rows]
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.cursor()
        try:
            if many:
                cursor.executemany(sql, rows)
                return []
            cursor.execute(sql, rows[0])
            return cursor.fetchall() if cursor.description else []
        except dbapi.Error as exc:
            # The driver's own error, as SQLAlchemy would have wrapped it (an
            # ``OperationalError`` for a dropped connection or a locked file, so callers and
            # the 503 handler see the same exceptions as on ``Connection.execute``); a
            # connection the server dropped is invalidated so the pool does not hand it out.
            lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
            if lost:
                conn.invalidate(exc)
            raise DBAPIError.instance(
                sql,
                rows if many else rows[0],
                exc,
                dbapi.Error,
                connection_invalidated=lost,
                dialect=conn.dialect,
            ) from exc
        finally:
            cursor.close()


def _configure_sqlite(engine: Engine, synchronous: str = "full") -> None:
    """WAL, foreign keys, ``synchronous`` and a busy timeout on every connection; we issue
    BEGIN ourselves.

    In WAL mode ``synchronous=FULL`` syncs the WAL at every commit, so a committed (and
    acknowledged) vote survives a power loss or an OS crash; ``NORMAL`` syncs only at
    checkpoints, which survives a killed process but may lose the last commits to a power
    loss (see ``bench/durability.py`` for what FULL costs).

    pysqlite's own transaction handling starts transactions lazily and never for DDL, which
    breaks transactional migrations and makes lock acquisition unpredictable, so it is
    switched off and SQLAlchemy's ``begin`` event emits the BEGIN. A connection whose
    ``info["sqlite_immediate"]`` is true begins with ``BEGIN IMMEDIATE`` to take the write
    lock up front (so a writer waits for the lock instead of failing midway).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.info.get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    """Every connection commits durably: ``synchronous_commit`` is at least ``on``.

    The server default is ``on`` (a commit returns once its WAL is flushed to disk), but a
    server, database or role setting of ``off`` would acknowledge votes that a crash of the
    server can still lose. Such a connection is switched back to ``on`` (with a warning);
    ``local``, ``remote_write`` and ``remote_apply`` are as durable locally and kept.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW synchronous_commit")
            (setting,) = cursor.fetchone()
            if setting == "off":
                log.warning("synchronous_commit is off on the server; the app turns it on")
                cursor.execute("SET synchronous_commit TO on")
        finally:
            cursor.close()
        dbapi_connection.commit()


def storable(text: str) -> bool:
    """Whether ``text`` can be sent to either database as a query parameter.

    PostgreSQL text cannot hold NUL characters, and no driver can encode a lone surrogate
    (what a JSON ``"\\ud800"`` escape decodes to). Nothing stored holds them, so a lookup by
    such a string can only miss: callers answer "not found" without asking the database,
    which would otherwise raise.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
