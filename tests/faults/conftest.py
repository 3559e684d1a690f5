"""Fault-suite helpers: a prepared database, a real ``arena serve`` (gunicorn) on a free
127.0.0.1 port, voters in threads that keep what the server acknowledged, and the checks
that every acknowledged vote is in the log and ``arena verify`` agrees.

Tests that need root (``mount``) or the PostgreSQL server's own commands skip locally when
they cannot run, and fail under ``CI=true`` (as ``tests/conftest.py`` does for PostgreSQL).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from sqlalchemy import create_engine, select

from arena import create_app, schema
from arena.models import Vote

ROOT = Path(__file__).resolve().parent.parent.parent
ARENA = Path(sys.executable).parent / "arena"
COMPETITION = "fantasy-warrior-ii"


def require(condition: bool, message: str) -> None:
    """Skip the test when ``condition`` is false; fail instead under ``CI=true``."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: fault tests must not be skipped)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, folder: Path, media: Path | None = None) -> dict[str, str]:
    """The environment of ``arena`` commands and the server: no limits in the way of the
    voters, no provider reachable, everything under ``folder``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARENA_") and k not in ("FAL_KEY", "REPLICATE_API_TOKEN")
    }
    env.pop("OPENAI_API_KEY", None)
    env.update(
        {
            "ARENA_DATABASE_URL": url,
            "ARENA_MEDIA_DIR": str(media or folder / "media"),
            "ARENA_SECRET_KEY": "faults",
            "ARENA_LIMITS_DB": str(folder / "ratelimits.db"),
            "ARENA_RATE_LIMIT": "off",
            "ARENA_IP_RATE_LIMIT": "off",
            "ARENA_NEW_VOTERS_PER_ADDRESS": "off",
            "ARENA_POW": "0",
            "ARENA_MIN_VOTE_MS": "0",
            "ARENA_DAILY_VOTE_CAP": "0",
            # As in production, a worker publishes snapshots while votes flow (kept cheap).
            "ARENA_PUBLISH_BOOTSTRAP": "10",
            "ARENA_VARIANT_POOL": "0",
        }
    )
    return env


def prepare(url: str, seeds: Path, media: Path, competitions: tuple[str, ...] = (COMPETITION,)):
    """Migrate, seed (``seeds``) and make the competitions' outputs with the builtin provider."""
    from arena.services import generation
    from arena.services.seeding import load_seeds
    from arena.web.db import get_db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "faults",
            "DATABASE_URL": url,
            "MEDIA_DIR": str(media),
            "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
            "LIMITS_DB": str(media.parent / "prepare-limits.db"),
        }
    )
    with app.app_context():
        db = get_db()
        schema.upgrade(db.engine)
        with db.session() as session:
            load_seeds(session, seeds)
            if competitions:
                chosen = generation.select_competitions(session, list(competitions), False)
                jobs = generation.plan_jobs(session, chosen, app.config, "builtin").jobs
                report = generation.run_jobs(session, jobs, app.config, workers=2)
                assert report.failed == 0, report.errors
        db.dispose()


def arena(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run an ``arena`` command; returns the finished process (output as text)."""
    return subprocess.run(
        [str(ARENA), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


class Server:
    """``arena serve --workers N`` (gunicorn) on a free port; the log goes to a file."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [str(ARENA), "serve", "--workers", str(workers), "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready(workers)

    def workers(self) -> list[int]:
        """The pids of gunicorn's live workers (children of the master, ``arena serve``)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        return [int(c) for c in children]

    def wait_ready(self, workers: int, timeout: float = 60) -> None:
        """Until every worker is up and the app answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            if len(self.workers()) >= workers:
                try:
                    if httpx.get(self.url + "/", timeout=5).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()


@pytest.fixture
def serve() -> Iterator:
    """``serve(env, workers, log)`` starts a :class:`Server`; every one is stopped after."""
    servers: list[Server] = []

    def start(env: dict[str, str], workers: int, log: Path) -> Server:
        servers.append(Server(env, workers, log))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@dataclass
class Tally:
    """What voters saw: acknowledged vote ids, statuses and bodies of the refusals, requests
    cut off (connection dropped), and requests that hung past the client's timeout."""

    accepted: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    refusals: list[tuple[float, int, str, str]] = field(default_factory=list)
    cut: int = 0
    hung: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str, status: int) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1

    def refused(self, response: httpx.Response) -> None:
        with self.lock:
            self.refusals.append(
                (
                    time.monotonic(),
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.text[:300],
                )
            )


class Voters:
    """``count`` threads, each a voter (its own cookie), casting battle + vote pairs through
    the JSON API until stopped."""

    def __init__(self, url: str, count: int, tally: Tally | None = None, seed: int = 0) -> None:
        self.url, self.tally = url, tally or Tally()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._vote, args=(random.Random(seed + i),), daemon=True)
            for i in range(count)
        ]

    def __enter__(self) -> Voters:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a voter thread hung"

    def _vote(self, rng: random.Random) -> None:
        tally = self.tally
        with httpx.Client(base_url=self.url, timeout=20) as client:
            while not self._stop.is_set():
                try:
                    battle = client.post("/api/v1/battles", json={"competition": COMPETITION})
                    tally.count("battle", battle.status_code)
                    if battle.status_code != 201:
                        tally.refused(battle)
                        time.sleep(0.05)
                        continue
                    token = battle.json()["token"]
                    winner = rng.choice(["left", "right", "tie"])
                    vote = client.post(f"/api/v1/battles/{token}/vote", json={"winner": winner})
                    tally.count("vote", vote.status_code)
                    if vote.status_code == 200:
                        with tally.lock:
                            tally.accepted.append(vote.json()["vote_id"])
                    else:
                        tally.refused(vote)
                        time.sleep(0.05)
                except httpx.TimeoutException:
                    with tally.lock:
                        tally.hung += 1
                except httpx.TransportError:
                    with tally.lock:
                        tally.cut += 1


def logged_votes(url: str) -> set[int]:
    """Every vote id in the database's log."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(Vote.id)).scalars())
    finally:
        engine.dispose()


def assert_nothing_lost(url: str, env: dict[str, str], tally: Tally) -> None:
    """Every acknowledged vote is in the log, and replaying the log agrees with every stored
    Elo and record (``arena verify``)."""
    logged = logged_votes(url)
    missing = sorted(set(tally.accepted) - logged)
    assert missing == [], f"{len(missing)} acknowledged votes are not in the log: {missing[:10]}"
    assert len(set(tally.accepted)) == len(tally.accepted), "a vote id was acknowledged twice"
    verify = verify_command(env)
    assert verify.exit_code == 0, verify.output
    assert f"OK: {len(logged)} votes replayed" in verify.output, verify.output


def verify_command(env: dict[str, str]) -> Result:
    """``arena verify`` on the server's database (in this process: no second app import)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "faults",
            "DATABASE_URL": env["ARENA_DATABASE_URL"],
            "MEDIA_DIR": env["ARENA_MEDIA_DIR"],
            "LIMITS_DB": env["ARENA_LIMITS_DB"],
        }
    )
    try:
        return app.test_cli_runner().invoke(args=["verify"])
    finally:
        app.extensions["arena.db"].dispose()
