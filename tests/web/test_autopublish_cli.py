"""Background publishing's settings (ARENA_PUBLISH_*, ARENA_AUTOPUBLISH) and the
``arena publish-loop`` command, in process and as a real process beside the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arena import config, create_app
from arena.models import Snapshot
from arena.services.leaderboards.autopublish import Lease


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ARENA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def load(tmp_path: Path, **overrides):
    return config.load(str(tmp_path), {"SECRET_KEY": "x", **overrides})


def test_defaults_publish_within_a_minute_and_tests_run_no_publisher(clean_env, tmp_path):
    settings = load(tmp_path)
    assert settings["AUTOPUBLISH"] is True
    assert (
        settings["PUBLISH_AFTER_VOTES"],
        settings["PUBLISH_MAX_STALE"],
        settings["PUBLISH_POLL"],
        settings["PUBLISH_BOOTSTRAP"],
    ) == (100, 60.0, 5.0, 1000)
    clean_env.setenv("ARENA_AUTOPUBLISH", "true")
    assert load(tmp_path, TESTING=True)["AUTOPUBLISH"] is False
    assert load(tmp_path, TESTING=True, AUTOPUBLISH=True)["AUTOPUBLISH"] is True
    clean_env.setenv("ARENA_AUTOPUBLISH", "off")
    assert load(tmp_path)["AUTOPUBLISH"] is False


def test_a_short_bound_polls_more_often(clean_env, tmp_path):
    clean_env.setenv("ARENA_PUBLISH_MAX_STALE", "8")
    assert load(tmp_path)["PUBLISH_POLL"] == 2.0
    clean_env.setenv("ARENA_PUBLISH_POLL", "0.5")
    assert load(tmp_path)["PUBLISH_POLL"] == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ARENA_PUBLISH_AFTER_VOTES", "0"),
        ("ARENA_PUBLISH_AFTER_VOTES", "1.5"),
        ("ARENA_PUBLISH_AFTER_VOTES", "ten"),
        ("ARENA_PUBLISH_MAX_STALE", "0"),
        ("ARENA_PUBLISH_MAX_STALE", "-5"),
        ("ARENA_PUBLISH_MAX_STALE", "soon"),
        ("ARENA_PUBLISH_POLL", "0"),
        ("ARENA_PUBLISH_POLL", "60"),
        ("ARENA_PUBLISH_BOOTSTRAP", "-1"),
        ("ARENA_PUBLISH_BOOTSTRAP", "100001"),
        ("ARENA_AUTOPUBLISH", "maybe"),
    ],
)
def test_malformed_settings_name_the_variable(clean_env, tmp_path, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        load(tmp_path)


def test_the_tests_app_has_no_publisher(app):
    assert app.config["AUTOPUBLISH"] is False
    assert "arena.publisher" not in app.extensions
    other = create_app({**app.config, "AUTOPUBLISH": True})
    assert not other.extensions["arena.publisher"].running  # until it serves a request
    other.extensions["arena.db"].dispose()


def test_publish_loop_once_publishes_what_is_stale(voting_app, votes):
    runner = voting_app.test_cli_runner()
    assert runner.invoke(args=["publish-loop", "--once"]).output == (
        "The boards are up to date: nothing to publish.\n"
    )
    votes.cast(3)
    result = runner.invoke(args=["publish-loop", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output == "Published 3 snapshots (3 counted votes).\n"
    assert "up to date" in runner.invoke(args=["publish-loop", "--once"]).output
    votes.cast(1)
    other = Lease(voting_app.extensions["arena.db"], holder="another-process")
    assert other.acquire(30)
    result = runner.invoke(args=["publish-loop", "--once"])
    assert result.output == "Another publisher holds the lease: nothing done.\n"
    assert other.current() == ("another-process", True)


def test_publish_loop_as_a_process_holds_the_lease_and_publishes(
    voting_app, votes, database_url, tmp_path
):
    db = voting_app.extensions["arena.db"]
    env = {
        **os.environ,
        "ARENA_DATABASE_URL": database_url,
        "ARENA_MEDIA_DIR": str(tmp_path / "media"),
        "ARENA_SECRET_KEY": "x",
        "ARENA_PUBLISH_MAX_STALE": "1",
        "ARENA_PUBLISH_POLL": "0.1",
        "ARENA_PUBLISH_BOOTSTRAP": "10",
        # The test's voters are seconds old: without this they are all on probation (see
        # arena.services.leaderboards.weights) and there would be nothing to publish.
        "ARENA_PROBATION": "false",
    }
    arena = Path(sys.executable).parent / "arena"
    process = subprocess.Popen(
        [str(arena), "publish-loop"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        holder = f":{process.pid}:"
        deadline = time.monotonic() + 30
        while not ((current := Lease(db).current()) and holder in current[0]):
            assert process.poll() is None and time.monotonic() < deadline, "no lease taken"
            time.sleep(0.05)
        assert not Lease(db, holder="this-process").acquire(30)
        votes.cast(2)
        while not _snapshots(db):
            assert process.poll() is None and time.monotonic() < deadline, "nothing published"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "published 3 snapshots" in stderr
    assert "the publisher lease is released" in stderr
    assert Lease(db).current() is None


def _snapshots(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Snapshot))
