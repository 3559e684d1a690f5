"""Every limit is exact across workers: 4 real gunicorn workers (``arena serve --workers 4``)
share one count, in the machine-local SQLite store or in Redis.

One server per store takes three bursts, each spread over the workers: one cookie's battles
(``ARENA_RATE_LIMIT=20/minute``), new voters from one address
(``ARENA_NEW_VOTERS_PER_ADDRESS``) and admin sign-in attempts from one address
(``ARENA_ADMIN_LOGIN_RATE_LIMIT``). Each must get exactly its limit, not a worker's share of
it nor four times it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from arena.web.limit_store import SQLiteLimitStorage, storage_uri

#: Database 14 belongs to this module (tests/web/test_security.py flushes 15); parallel runs
#: take turns on it with a lock, and delete only the limiter's keys.
REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_LOCK = "arena-tests:shared-limits"
ARENA = Path(sys.executable).with_name("arena")

VOTER_LIMIT = 20
NEW_VOTERS = 5
ADMIN_LOGINS = 7
LIMITS = {
    "ARENA_RATE_LIMIT": f"{VOTER_LIMIT}/minute",
    "ARENA_IP_RATE_LIMIT": "off",
    "ARENA_NEW_VOTERS_PER_ADDRESS": f"{NEW_VOTERS}/minute",
    "ARENA_ADMIN_LOGIN_RATE_LIMIT": f"{ADMIN_LOGINS}/minute",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_or_skip() -> redis.Redis:
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        store.ping()
    except redis.RedisError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not answering at {REDIS_URL}")
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    return store


@contextmanager
def redis_to_ourselves() -> Iterator[None]:
    """Database 14 of the test Redis, with no limiter keys, held against parallel runs."""
    store = _redis_or_skip()
    with store.lock(REDIS_LOCK, timeout=600, blocking_timeout=600):
        for key in store.scan_iter("LIMITS:*"):
            store.delete(key)
        try:
            yield
        finally:
            for key in store.scan_iter("LIMITS:*"):
                store.delete(key)


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers of the master process ``master``."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@contextmanager
def serve_arena(
    app, tmp_path: Path, env: dict[str, str], workers: int = 4
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``arena serve --workers N`` (gunicorn) on a free 127.0.0.1 port, on ``app``'s database
    and media; yields the process (gunicorn's master) and the base URL once it answers."""
    port = _free_port()
    full = os.environ | {
        "ARENA_DATABASE_URL": app.config["DATABASE_URL"],
        "ARENA_MEDIA_DIR": app.config["MEDIA_DIR"],
        "ARENA_SECRET_KEY": "test-secret",
        "ARENA_RATE_LIMIT": "off",
        "ARENA_IP_RATE_LIMIT": "off",
        "ARENA_NEW_VOTERS_PER_ADDRESS": "off",
        "ARENA_POW": "off",
        "ARENA_AUTOPUBLISH": "false",
        "ARENA_LIMITS_DB": str(tmp_path / "limits.db"),
    }
    full.pop("ARENA_REDIS_URL", None)
    full |= env
    process = subprocess.Popen(
        [str(ARENA), "serve", "--workers", str(workers), "--port", str(port)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("arena serve did not start within 30 s")
                time.sleep(0.2)
        while len(worker_pids(process.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield process, base
    finally:
        process.terminate()
        process.wait(timeout=30)


#: The three bursts take 2–5 s here; they must not straddle two windows.
BURST_BUDGET_S = 15


def _early_in_a_minute() -> None:
    """Wait for the next minute when fewer than ``BURST_BUDGET_S`` seconds are left in this
    one: the sliding-window counter weighs the previous window in, so a burst straddling two
    windows could get one more."""
    if time.time() % 60 > 60 - BURST_BUDGET_S:
        time.sleep(60 - time.time() % 60 + 0.5)


def _burst(requests: int, send) -> list[int]:
    """``send(i)`` for every i, 8 at a time (spread over the workers); the statuses."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, range(requests)))


def _battles_for_one_cookie(base: str, attempts: int) -> list[int]:
    """One voter (one cookie) asks for ``attempts`` battles; its first makes the voter."""
    with httpx.Client(base_url=base, timeout=30) as first:
        statuses = [first.post("/api/v1/battles", json={}).status_code]
        cookies = dict(first.cookies)

    def ask(_: int) -> int:
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as http:
            return http.post("/api/v1/battles", json={}).status_code

    return statuses + _burst(attempts - 1, ask)


def _newcomers(base: str, attempts: int) -> list[int]:
    """``attempts`` requests without a cookie from one address: each would make a voter."""

    def ask(_: int) -> int:
        return httpx.post(base + "/api/v1/battles", json={}, timeout=30).status_code

    return _burst(attempts, ask)


def _admin_sign_ins(base: str, attempts: int) -> list[int]:
    """``attempts`` sign-ins with a wrong password (and a valid CSRF token) from one address."""
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:500]
        cookies = dict(http.cookies)

    def attempt(_: int) -> int:
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
            form = {"csrf_token": token.group(1), "password": "not-the-password"}
            return client.post("/admin/login", data=form).status_code

    return _burst(attempts, attempt)


# Each store once, each database once: the limits do not live in the database, so the
# four combinations would test nothing the two do not.
@pytest.mark.parametrize(
    ("backend", "store"), [("sqlite", "sqlite"), ("postgresql", "redis")], indirect=["backend"]
)
def test_every_limit_is_exact_across_four_workers(voting_app, tmp_path, store):
    env = LIMITS | {"ARENA_ADMIN_PASSWORD": "the-password"}
    shared = redis_to_ourselves() if store == "redis" else contextmanager(lambda: iter([None]))()
    with shared:
        if store == "redis":
            env["ARENA_REDIS_URL"] = REDIS_URL
        with serve_arena(voting_app, tmp_path, env) as (_, base):
            _early_in_a_minute()
            started = time.monotonic()
            battles = _battles_for_one_cookie(base, 60)
            newcomers = _newcomers(base, 30)
            sign_ins = _admin_sign_ins(base, 30)
            took = time.monotonic() - started
    assert took < BURST_BUDGET_S, (
        f"the bursts took {took:.1f} s: they may have straddled two windows"
    )
    # The first request made the voter (a newcomer meets no per-voter limit); the cookie's
    # own budget is then exactly 20 whichever worker answers.
    assert battles[0] == 201
    assert battles[1:].count(201) == VOTER_LIMIT, battles
    assert battles[1:].count(429) == 59 - VOTER_LIMIT
    # That first voter was the address's first new voter: four more, then 429.
    assert newcomers.count(201) == NEW_VOTERS - 1, newcomers
    assert newcomers.count(429) == 30 - (NEW_VOTERS - 1)
    assert sign_ins.count(401) == ADMIN_LOGINS, sign_ins
    assert sign_ins.count(429) == 30 - ADMIN_LOGINS
    if store == "sqlite":
        assert (tmp_path / "limits.db").exists()


def test_sqlite_store_counts_windows_and_spent_names(tmp_path):
    storage = SQLiteLimitStorage(storage_uri(str(tmp_path / "limits.db")))
    assert storage.check()
    assert [storage.incr("once", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("once") == 3 and storage.get_expiry("once") > time.time()
    assert [storage.acquire_sliding_window_entry("k", 2, 60) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert storage.get_sliding_window("k", 60)[2] == 2
    storage.clear_sliding_window("k", 60)
    assert storage.acquire_sliding_window_entry("k", 2, 60)
    assert storage.incr("short", 1) == 1
    time.sleep(1.1)
    assert storage.get("short") == 0 and storage.incr("short", 1) == 1  # expired: starts over
    assert storage.reset() >= 2
