"""Every limit is exact across workers: 4 real gunicorn workers (``arena serve --workers 4``)
share one count, in the machine-local SQLite store or in Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis

from arena.web.limit_store import SQLiteLimitStorage, storage_uri

REDIS_URL = "redis://127.0.0.1:6379/15"  # database 15 belongs to the tests
ARENA = Path(sys.executable).with_name("arena")


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


def _serve(app, tmp_path: Path, extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = os.environ | {
        "ARENA_DATABASE_URL": app.config["DATABASE_URL"],
        "ARENA_MEDIA_DIR": app.config["MEDIA_DIR"],
        "ARENA_SECRET_KEY": "test-secret",
        # An hour, not a minute: the sliding-window counter weighs the previous window
        # linearly, so a burst that straddles two windows may get one more than the limit;
        # with hour windows (and the wait in _battles_for_one_cookie) the burst sits in one.
        "ARENA_RATE_LIMIT": "20/hour",
        "ARENA_IP_RATE_LIMIT": "off",
        "ARENA_NEW_VOTERS_PER_ADDRESS": "off",
        "ARENA_POW": "off",
        "ARENA_AUTOPUBLISH": "false",
        "ARENA_LIMITS_DB": str(tmp_path / "limits.db"),
    }
    env.pop("ARENA_REDIS_URL", None)
    env |= extra
    process = subprocess.Popen(
        [str(ARENA), "serve", "--workers", "4", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    pytest.fail("arena serve did not start within 30 s")


def _battles_for_one_cookie(base: str, attempts: int) -> list[int]:
    """One voter (one cookie) asks for ``attempts`` battles, 8 at a time across the workers."""
    if time.time() % 3600 > 3600 - 120:  # too close to a window's end: start in the next
        time.sleep(3600 - time.time() % 3600 + 1)
    with httpx.Client(base_url=base, timeout=30) as first:
        statuses = [first.post("/api/v1/battles", json={}).status_code]
        cookies = dict(first.cookies)

    def ask(_: int) -> int:
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as http:
            return http.post("/api/v1/battles", json={}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses += list(pool.map(ask, range(attempts - 1)))
    return statuses


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_one_cookie_gets_exactly_its_limit_across_four_workers(voting_app, tmp_path, store):
    extra = {}
    if store == "redis":
        _redis_or_skip().flushdb()
        extra = {"ARENA_REDIS_URL": REDIS_URL}
    process, base = _serve(voting_app, tmp_path, extra)
    try:
        statuses = _battles_for_one_cookie(base, 60)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if store == "redis":
            _redis_or_skip().flushdb()
    # The first request made the voter (a newcomer meets only the address limit); the
    # cookie's own budget is then exactly 20 whichever worker answers.
    assert statuses[0] == 201
    assert statuses[1:].count(201) == 20, statuses
    assert statuses[1:].count(429) == 39
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
