"""Operations: ``/healthz`` names what fails, ``/metrics`` counts what happened (also across
real gunicorn workers), and slow clients cannot starve ``arena serve``."""

from __future__ import annotations

import os
import re
import signal
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
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from arena import create_app, schema
from arena.services.integrity import flag_voters
from arena.services.voting.recording import VoteRules
from arena.web.db import get_db

ARENA = Path(sys.executable).with_name("arena")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by (name, labels); the text must parse."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return _samples(response.get_data(as_text=True))


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_is_ok_when_database_and_media_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ok" and body["failing"] == []
    assert {"database", "media", "rate_limits"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    assert response.headers["Cache-Control"] == "no-store"


def _app_on(database_url: str, tmp_path: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "LIMITS_DB": str(tmp_path / "ratelimits.db"),
        }
    )


def test_healthz_names_an_unreachable_database(backend, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'arena.db'}"
    else:  # a port nothing listens on
        url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{_free_port()}/test"
    app = _app_on(url, tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "fail" and body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"]
    assert "hunter2" not in response.get_data(as_text=True)
    assert body["checks"]["media"]["ok"] is True
    app.extensions["arena.db"].engine.dispose()


def test_healthz_checks_a_configured_broker_and_names_it_when_down(app, database_url, tmp_path):
    """With ARENA_BROKER_URL set, a broker that is down is a 503 naming ``broker``; the same
    app with the broker up (the local Redis) is healthy."""

    def health(broker: str) -> httpx.Response:
        configured = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "DATABASE_URL": database_url,
                "MEDIA_DIR": str(tmp_path / "media"),
                "LIMITS_DB": str(tmp_path / "ratelimits.db"),
                "BROKER_URL": broker,
            }
        )
        try:
            return configured.test_client().get("/healthz")
        finally:
            configured.extensions["arena.db"].engine.dispose()

    down = health(f"redis://127.0.0.1:{_free_port()}/0")
    assert down.status_code == 503 and down.json["failing"] == ["broker"]
    assert down.json["checks"]["broker"]["ok"] is False and down.json["checks"]["broker"]["error"]
    redis_up = socket.socket()
    try:
        redis_up.settimeout(1)
        redis_up.connect(("127.0.0.1", 6379))
    except OSError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    finally:
        redis_up.close()
    up = health("redis://127.0.0.1:6379/0")
    assert up.status_code == 200 and up.json["checks"]["broker"]["ok"] is True


def test_healthz_names_a_database_without_schema(tmp_path):
    app = _app_on(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database"]
    assert "alembic_version" in response.json["checks"]["database"]["error"]


def test_healthz_names_a_media_folder_that_cannot_be_written(app, client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # Under a regular file: not writable even for root (which ignores permission bits).
    app.config["MEDIA_DIR"] = str(blocker / "media")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["media"]
    assert response.json["checks"]["database"]["ok"] is True
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    assert client.get("/healthz").status_code == 200
    assert not [p for p in (tmp_path / "media").iterdir() if p.name.startswith(".healthz")]


# --- /metrics in one process ------------------------------------------------------------------


def test_metrics_count_requests_by_route_never_by_path(client):
    before = _scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page-4f1c9a").status_code == 404
    response = client.get("/metrics")
    text = response.get_data(as_text=True)
    after = _samples(text)
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    assert _value(after, "arena_http_requests_total", **labels) == (
        _value(before, "arena_http_requests_total", **labels) + 3
    )
    assert _value(
        after, "arena_http_request_duration_seconds_count", route="/healthz", method="GET"
    ) == (
        _value(before, "arena_http_request_duration_seconds_count", route="/healthz", method="GET")
        + 3
    )
    unmatched = {"route": "(unmatched)", "method": "GET", "status": "404"}
    assert _value(after, "arena_http_requests_total", **unmatched) >= 1
    assert "page-4f1c9a" not in text
    assert _value(after, "arena_database_up") == 1


def test_metrics_count_votes_by_reason_battles_outputs_and_snapshot_age(votes, voting_app):
    voting_app.config["METRICS_CACHE_S"] = 0
    client = voting_app.test_client()
    before = _scrape(client)
    assert ("arena_snapshot_age_seconds", frozenset()) not in before
    with voting_app.app_context(), get_db().engine.connect() as conn:
        outputs_done = conn.exec_driver_sql(
            "SELECT count(*) FROM outputs WHERE status = 'done'"
        ).scalar()
    assert _value(before, "arena_generation_outputs", state="done") == outputs_done > 0
    assert _value(before, "arena_generation_outputs", state="pending") == 0

    votes.cast(3)  # counted
    votes.cast(3, rules=VoteRules(daily_cap=1))  # one counted, two over the cap
    votes.cast(2, rules=VoteRules(min_vote_ms=600_000))  # too fast
    flagged = votes.voter()
    votes.cast(2, voter=flagged)  # counted until its voter is flagged
    with voting_app.app_context():
        db = get_db()
        with db.write_transaction() as conn:
            flag_voters(conn, {flagged.id: "test"}, k=voting_app.config["ELO_K"])
    runner = voting_app.test_cli_runner()
    assert runner.invoke(args=["recompute", "--bootstrap", "0"]).exit_code == 0

    after = _scrape(client)
    assert _value(after, "arena_votes_counted_total") == 4
    assert _value(after, "arena_votes_not_counted_total", reason="daily_cap") == 2
    assert _value(after, "arena_votes_not_counted_total", reason="fast") == 2
    assert _value(after, "arena_votes_not_counted_total", reason="flagged_voter") == 2
    assert _value(after, "arena_battles_issued_total", size="2") == 10
    assert _value(after, "arena_battles_issued_total", size="4") == 0
    assert 0 <= _value(after, "arena_snapshot_age_seconds") < 60
    assert ("arena_snapshot_age_seconds", frozenset()) in after


def test_metrics_token_when_configured(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200
    assert "s3cret-token" not in right.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # the load balancer needs no token


def test_ops_endpoints_meet_no_rate_limit(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "LIMITS_DB": str(tmp_path / "ratelimits.db"),
            "RATE_LIMIT": "2/minute",
            "IP_RATE_LIMIT": "2/minute",
        }
    )
    client = app.test_client()
    statuses = {client.get(path).status_code for path in ("/metrics", "/healthz") * 10}
    assert statuses == {200}
    assert client.post("/api/v1/battles", json={}).status_code != 429  # the limit is real ...
    assert {client.post("/api/v1/battles", json={}).status_code for _ in range(3)} >= {429}
    app.extensions["arena.db"].engine.dispose()


# --- real gunicorn (on SQLite: what is tested here does not depend on the database) -------------


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a fresh, migrated SQLite file of this test."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    engine = create_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    app = _app_on(url, tmp_path)
    yield app
    app.extensions["arena.db"].engine.dispose()


@contextmanager
def _serve(app: Flask, tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """``arena serve ARGS`` on a free port, on the app's database, until the block ends."""
    port = _free_port()
    env = os.environ | {
        "ARENA_DATABASE_URL": app.config["DATABASE_URL"],
        "ARENA_MEDIA_DIR": app.config["MEDIA_DIR"],
        "ARENA_SECRET_KEY": "test-secret",
        "ARENA_AUTOPUBLISH": "false",
        "ARENA_LIMITS_DB": str(tmp_path / "limits.db"),
        "TMPDIR": str(tmp_path),  # where arena serve makes its metrics folder
    }
    for name in ("ARENA_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "ARENA_METRICS_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [str(ARENA), "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    pytest.fail("arena serve did not start within 30 s")
                time.sleep(0.2)
        yield process, base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _counter_pids(tmp_path: Path) -> set[int]:
    """The workers that wrote request counts in arena serve's metrics folder."""
    return {
        int(m.group(1))
        for path in tmp_path.glob("arena-metrics-*/counter_*.db")
        if (m := re.match(r"counter_(\d+)\.db", path.name))
    }


def _healthz_total(base: str) -> float:
    samples = _samples(httpx.get(base + "/metrics", timeout=10).text)
    return _value(
        samples, "arena_http_requests_total", route="/healthz", method="GET", status="200"
    )


def test_metrics_add_up_every_gunicorn_worker(sqlite_app, tmp_path):
    with _serve(sqlite_app, tmp_path, "--workers", "2") as (process, base):
        start = _healthz_total(base)  # the start-up probes
        sent = 0

        def probe(_: int) -> int:
            with httpx.Client(timeout=60) as http:  # a connection each: any worker may answer
                return http.get(base + "/healthz").status_code

        with ThreadPoolExecutor(8) as pool:
            for _ in range(10):  # until both workers have answered some
                assert set(pool.map(probe, range(16))) == {200}
                sent += 16
                if len(_counter_pids(tmp_path)) >= 2:
                    break
            pids = _counter_pids(tmp_path)
            assert len(pids) == 2, pids
            assert _healthz_total(base) == start + sent

            # Dead workers' counts stay in the totals (gunicorn starts new workers).
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
            assert set(pool.map(probe, range(16))) == {200}
            sent += 16
        assert len(_counter_pids(tmp_path)) >= 3  # the two dead workers' and a new one's
        assert _healthz_total(base) == start + sent
        folder = next(tmp_path.glob("arena-metrics-*"))
    assert process.returncode is not None
    assert not folder.exists()  # removed when the server stopped


def test_slow_clients_do_not_starve_a_single_worker(sqlite_app, tmp_path):
    with _serve(sqlite_app, tmp_path, "--workers", "1") as (_, base):
        port = int(base.rsplit(":", 1)[1])
        slow = []
        try:
            for i in range(15):
                connection = socket.create_connection(("127.0.0.1", port))
                if i < 10:  # headers begun, never finished
                    connection.sendall(b"GET /arena HTTP/1.1\r\nHost: x")
                slow.append(connection)  # the other five send nothing at all
            time.sleep(0.5)
            timings = []
            for _ in range(5):
                for connection in slow[:10]:
                    connection.sendall(b"x")  # one more byte of a header that never ends
                started = time.perf_counter()
                response = httpx.get(base + "/healthz", timeout=10)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200
                time.sleep(0.5)
            assert max(timings) < 1.5, timings
        finally:
            for connection in slow:
                connection.close()
