"""PostgreSQL restarts while voters vote: clear 503s during the outage, nothing lost after.

A real ``arena serve --workers 2`` on a PostgreSQL database; four voters in threads cast
battle + vote pairs; the test stops the machine's PostgreSQL cluster (``pg_ctlcluster ...
stop -m fast``, which ends every session), holds it down two seconds, and starts it again.
Every answer during the outage is a 503 JSON error (``database_unavailable``) under the API
and a 503 page elsewhere, never a hang, a dropped connection or a 500; after the restart the
same workers serve votes again, and every vote that got a 200 is in the log (``arena
verify`` agrees). The cluster is started again whatever happens (other tests share it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES_ADMIN_URL, fresh_database_url
from tests.faults.conftest import Voters, assert_nothing_lost, prepare, require, server_env

pytestmark = pytest.mark.faults

OUTAGE_S = 2.0


def _cluster() -> list[str]:
    """``pg_ctlcluster <version> main`` of the local server, or a skip (a failure in CI)."""
    host = make_url(POSTGRES_ADMIN_URL).host
    require(host in ("127.0.0.1", "localhost"), f"PostgreSQL at {host} is not this machine's")
    require(shutil.which("pg_ctlcluster") is not None, "pg_ctlcluster is not installed")
    require(os.geteuid() == 0, "restarting PostgreSQL needs root")
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    require(len(versions) == 1, f"expected one PostgreSQL version in /etc/postgresql: {versions}")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main"]


def _ctl(cluster: list[str], *args: str) -> None:
    subprocess.run([*cluster, *args], check=True, capture_output=True, timeout=60)


def _wait_accepting(timeout: float = 60) -> None:
    """Until the server takes connections again."""
    engine = create_engine(POSTGRES_ADMIN_URL, poolclass=NullPool)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:  # any failure: not back yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


def _running(cluster: list[str]) -> bool:
    done = subprocess.run([*cluster, "status"], capture_output=True, timeout=30)
    return done.returncode == 0


def test_postgres_restart_mid_load_answers_503_and_loses_no_vote(
    postgres, tmp_path: Path, small_seeds: Path, serve
) -> None:
    cluster = _cluster()
    url = fresh_database_url("postgresql", postgres, tmp_path, "faults_restart")
    prepare(url, small_seeds, tmp_path / "media")
    env = server_env(url, tmp_path)
    server = serve(env, 2, tmp_path / "server.log")
    probes: list[httpx.Response] = []
    try:
        with Voters(server.url, 4) as voters:
            time.sleep(2.0)
            before = len(voters.tally.accepted)
            stopping_at = time.monotonic()
            _ctl(cluster, "stop", "-m", "fast")
            down_at = time.monotonic()
            with httpx.Client(base_url=server.url, timeout=20) as client:
                probes.append(client.post("/api/v1/battles", json={}))
                probes.append(client.get("/arena"))
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            _ctl(cluster, "start")
            _wait_accepting()
            up_at = time.monotonic()
            time.sleep(3.0)
    finally:
        if not _running(cluster):
            _ctl(cluster, "start")
        _wait_accepting()
        postgres.admin.dispose()  # its pooled connection died with the old server

    tally = voters.tally
    assert before >= 5, tally
    # No hang, no dropped connection, no 500: only clear 503s, all during the outage.
    assert tally.hung == 0 and tally.cut == 0, tally
    for at, status, content_type, body in tally.refusals:
        assert status == 503 and content_type == "application/json", (status, body)
        assert '"code":"database_unavailable"' in body.replace(" ", ""), body
        assert stopping_at <= at <= up_at + 1, (at - stopping_at, up_at - stopping_at, body)
    api, page = probes
    assert api.status_code == 503, api.text
    assert api.headers["Retry-After"] == "5"
    assert api.json()["error"]["code"] == "database_unavailable"
    assert "try again" in api.json()["error"]["message"]
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "database is unavailable" in page.text

    # The same workers (no restart of the app) serve votes again.
    with Voters(server.url, 2, seed=100) as after:
        time.sleep(1.0)
    assert len(after.tally.accepted) >= 2 and after.tally.refusals == [], after.tally
    server.stop()
    tally.accepted += after.tally.accepted
    assert_nothing_lost(url, env, tally)
