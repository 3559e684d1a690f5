"""An acknowledged vote survives power loss by default: SQLite ``synchronous=FULL``
(``ARENA_SQLITE_SYNCHRONOUS``), PostgreSQL ``synchronous_commit`` never ``off``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from arena import config, create_app
from arena.db import Database
from tests.conftest import fresh_database_url

pytestmark = pytest.mark.faults


def _pragma(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(text("PRAGMA synchronous")).scalar()


def test_sqlite_syncs_every_commit_by_default(tmp_path: Path) -> None:
    full = Database(f"sqlite:///{tmp_path / 'full.db'}")
    normal = Database(f"sqlite:///{tmp_path / 'normal.db'}", sqlite_synchronous="normal")
    assert (_pragma(full), _pragma(normal)) == (2, 1)  # FULL, NORMAL
    with full.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    full.dispose()
    normal.dispose()
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="off")


def test_the_setting_comes_from_arena_sqlite_synchronous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    assert config.load(str(tmp_path), settings)["SQLITE_SYNCHRONOUS"] == "full"
    monkeypatch.setenv("ARENA_SQLITE_SYNCHRONOUS", "NORMAL")
    app = create_app({**settings, "TESTING": True, "LIMITS_DB": str(tmp_path / "l.db")})
    assert app.config["SQLITE_SYNCHRONOUS"] == "normal"
    assert _pragma(app.extensions["arena.db"]) == 1
    app.extensions["arena.db"].dispose()
    monkeypatch.setenv("ARENA_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(config.ConfigError, match="ARENA_SQLITE_SYNCHRONOUS must be full or"):
        config.load(str(tmp_path), settings)


def test_postgres_commits_durably_even_if_the_database_says_off(postgres, tmp_path: Path) -> None:
    url = fresh_database_url("postgresql", postgres, tmp_path, "faults_sync")
    name = url.rsplit("/", 1)[1]
    with postgres.admin.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"  # server default
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    plain = create_engine(url)
    with plain.connect() as conn:  # what a connection gets from the server's settings
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
    plain.dispose()
    database = Database(url)
    for _ in range(2):  # a fresh connection, then one from the pool
        with database.engine.connect() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    database.dispose()
