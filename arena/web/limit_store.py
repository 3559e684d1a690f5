"""Rate-limit counts shared by every worker of one machine: a ``limits`` storage on SQLite.

Without ``ARENA_REDIS_URL`` each gunicorn worker used to count in its own memory, so N workers
allowed N times every limit. This storage keeps the counts in a small SQLite file of its own
(never the votes' database, so limits never contend with votes), registered with ``limits``
as the ``arena+sqlite`` scheme: ``arena+sqlite:///absolute/path/ratelimits.db``.

Counters are fixed windows (``key, value, expires``) moved by one UPSERT; the sliding window
counter (the strategy Flask-Limiter uses here) reads the previous and current windows and
takes its entry in one transaction. Writers queue on a kernel file lock (``flock``) beside the
file, then write in WAL mode without fsync (counts need not survive a power cut), so a check
costs tens of microseconds and is exact across processes.
"""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from limits.storage import Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow

SCHEME = "arena+sqlite"

#: One write in this many also deletes expired counters.
_PURGE_EVERY = 1000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    "key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
)
_INCR = (
    "INSERT INTO counters (key, value, expires) VALUES (:key, :amount, :now + :expiry) "
    "ON CONFLICT (key) DO UPDATE SET "
    "value = CASE WHEN counters.expires <= :now THEN excluded.value "
    "ELSE counters.value + excluded.value END, "
    "expires = CASE WHEN counters.expires <= :now THEN excluded.expires "
    "ELSE counters.expires END "
    "RETURNING value"
)
_GET = "SELECT value FROM counters WHERE key = ? AND expires > ?"


def storage_uri(path: str) -> str:
    """The storage URI of the SQLite file at ``path`` (made absolute)."""
    return f"{SCHEME}://{os.path.abspath(path)}"


class _Handle:
    """One process's and thread's connection to the file, and its writers' lock file."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 10000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute(_SCHEMA)
        self.lock = open(path + ".lock", "a+b")  # noqa: SIM115 (open for the process' life)
        self.pid = os.getpid()
        self.writes = 0

    def __del__(self) -> None:
        self.conn.close()
        self.lock.close()


class SQLiteLimitStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """A ``limits`` storage on a machine-local SQLite file, exact across processes."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        """Open (lazily, per process and thread) the file named by ``uri``."""
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
        if not path:
            raise ValueError(f"{SCHEME} needs a file path, e.g. {SCHEME}:///tmp/limits.db")
        self.path = path
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _handle(self) -> _Handle:
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None or handle.pid != os.getpid():  # a forked worker opens its own
            handle = self._local.handle = _Handle(self.path)
        return handle

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, queued on the file lock so writers never poll."""
        handle = self._handle()
        fcntl.flock(handle.lock, fcntl.LOCK_EX)
        try:
            handle.conn.execute("BEGIN IMMEDIATE")
            try:
                yield handle.conn
                handle.writes += 1
                if handle.writes % _PURGE_EVERY == 0:
                    handle.conn.execute("DELETE FROM counters WHERE expires <= ?", (time.time(),))
                handle.conn.execute("COMMIT")
            except BaseException:
                handle.conn.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(handle.lock, fcntl.LOCK_UN)

    @staticmethod
    def _incr(conn: sqlite3.Connection, key: str, expiry: float, amount: int, now: float) -> int:
        params = {"key": key, "amount": amount, "now": now, "expiry": expiry}
        return int(conn.execute(_INCR, params).fetchone()[0])

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter (a new one expires in ``expiry`` seconds)."""
        with self._write() as conn:
            return self._incr(conn, key, expiry, amount, time.time())

    def get(self, key: str) -> int:
        """The counter's value (0 once expired)."""
        row = self._handle().conn.execute(_GET, (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When the counter expires (now if it does not exist)."""
        now = time.time()
        row = (
            self._handle()
            .conn.execute("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        """Whether the file answers."""
        try:
            self._handle().conn.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Delete every counter; returns how many there were."""
        with self._write() as conn:
            return conn.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        """Delete one counter."""
        with self._write() as conn:
            conn.execute("DELETE FROM counters WHERE key = ?", (key,))

    def _window(
        self, conn: sqlite3.Connection, key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = conn.execute(_GET, (previous_key, now)).fetchone()
        current = conn.execute(_GET, (current_key, now)).fetchone()
        previous_count = int(previous[0]) if previous else 0
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous_count else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_count, previous_ttl, int(current[0]) if current else 0, current_ttl

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Take ``amount`` entries if the weighted count of the previous and current windows
        leaves room under ``limit``; one transaction, so exact across processes."""
        if amount > limit:
            return False
        now = time.time()
        with self._write() as conn:
            previous, previous_ttl, current, _ = self._window(conn, key, expiry, now)
            if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            current_key = self.sliding_window_keys(key, expiry, now)[1]
            self._incr(conn, current_key, 2 * expiry, amount, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, previous TTL, current count, current TTL) of the window."""
        return self._window(self._handle().conn, key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Delete both windows' counters."""
        with self._write() as conn:
            for window_key in self.sliding_window_keys(key, expiry, time.time()):
                conn.execute("DELETE FROM counters WHERE key = ?", (window_key,))
