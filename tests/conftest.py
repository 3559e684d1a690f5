"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

Each test session gets its own SQLite file and its own PostgreSQL database (created here,
dropped at the end), migrated once; each test starts from empty tables. PostgreSQL is the
machine's server at 127.0.0.1:5432 (``ARENA_TEST_POSTGRES_URL`` to use another); when it is
unreachable the PostgreSQL runs are skipped locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from arena import create_app, schema
from arena.models import Base
from arena.services.voting.battles import issue_battle
from arena.services.voting.recording import VoteResult, VoteRules, record_vote
from arena.services.voting.voters import VoterIdentity, ensure_voter
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "ARENA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


class _Postgres:
    """Creates and drops throwaway databases on the test PostgreSQL server."""

    def __init__(self) -> None:
        self.admin: Engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def available(self) -> str | None:
        try:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any connection failure means "not available"
            return f"{type(exc).__name__}: {exc}".splitlines()[0]
        return None

    def create(self, label: str) -> str:
        name = f"arena_{label}_{os.getpid()}_{secrets.token_hex(4)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[_Postgres]:
    pg = _Postgres()
    yield pg
    pg.drop_all()


def fresh_database_url(backend: str, postgres: _Postgres, folder: Path, label: str) -> str:
    """A new, empty database of ``backend``; skips (or fails in CI) without PostgreSQL."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{label}-{secrets.token_hex(4)}.db'}"
    problem = postgres.available()
    if problem:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {problem}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the PostgreSQL run must not be skipped)")
        pytest.skip(message)
    return postgres.create(label)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(
    backend: str, postgres: _Postgres, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """This session's migrated database for ``backend``."""
    url = fresh_database_url(backend, postgres, tmp_path_factory.mktemp("db"), "tests")
    engine = create_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on this session's database, with empty tables and its own media folder."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "GENERATION_WORKERS": 2,
            "GENERATION_BACKOFF_S": 0.0,
            # Rate limits have their own tests; elsewhere they would only slow tests down.
            "RATE_LIMIT": "off",
            "IP_RATE_LIMIT": "off",
            # Counts of this app's limits only (a fresh file per test).
            "LIMITS_DB": str(tmp_path / "ratelimits.db"),
            # Test clients vote within milliseconds; the fast-vote signal has its own tests.
            "MIN_VOTE_MS": 0,
            # Never reach a real provider from tests, whatever the environment holds.
            "PROVIDER_CREDENTIALS": {"fal": None, "replicate": None, "openai": None},
        }
    )
    yield app
    engine = app.extensions["arena.db"].engine
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask):
    """A database session inside an app context."""
    with app.app_context(), get_db().session() as session:
        yield session


@pytest.fixture
def seeded(app: Flask):
    """The app with the repository's seeds loaded."""
    from arena.services.seeding import load_seeds

    with app.app_context(), get_db().session() as session:
        load_seeds(session, ROOT / "seeds")
    return app


@pytest.fixture
def small_seeds(tmp_path: Path) -> Path:
    """A copy of the repository's seeds with each competition's first three prompts only, shrunk
    to 96x64 (fast to render; the full pools of 50 prompts have their own tests)."""
    import shutil

    import yaml

    target = tmp_path / "small-seeds"
    shutil.copytree(ROOT / "seeds", target)
    path = target / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    for competition in data["competitions"]:
        competition["prompts"] = competition["prompts"][:3]
        for prompt in competition["prompts"]:
            prompt["size"] = "96x64"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return target


@pytest.fixture
def voting_app(app: Flask, small_seeds: Path) -> Flask:
    """Seeds loaded and outputs made (small images) for battles: every output of
    fantasy-warrior-ii (14 models), and two models' first prompt of heroic-super-hero-portrait
    (so a second competition is ready too). The other open competitions have no outputs."""
    from arena.services import generation
    from arena.services.seeding import load_seeds

    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
        full = generation.select_competitions(session, ["fantasy-warrior-ii"], False)
        jobs = generation.plan_jobs(session, full, app.config, "builtin").jobs
        heroic = generation.select_competitions(session, ["heroic-super-hero-portrait"], False)
        first_prompt = heroic[0].prompts[0].id
        two_models = {m.id for m in heroic[0].models[:2]}
        jobs += [
            job
            for job in generation.plan_jobs(session, heroic, app.config, "builtin").jobs
            if job.prompt_id == first_prompt and job.model_id in two_models
        ]
        generation.run_jobs(session, jobs, app.config, workers=2)
    return app


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (a free port); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class Votes:
    """Casts votes on an app through the real vote path: issue a battle, record the vote."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def voter(self) -> VoterIdentity:
        """A new anonymous voter."""
        with self.app.app_context():
            return ensure_voter(get_db(), None)

    def cast(
        self,
        n: int = 1,
        *,
        voter: VoterIdentity | None = None,
        competition: str | Callable[[int], str | None] | None = "fantasy-warrior-ii",
        choice: str | Sequence[str] = ("left", "right"),
        rules: VoteRules | None = None,
        rng: random.Random | None = None,
        seed: int = 0,
    ) -> list[VoteResult]:
        """``n`` votes by ``voter`` (a new one if None) in ``competition`` (a slug, None for
        any open one, or a function of the vote's index); ``choice`` is one answer or a
        sequence to pick from at random; ``rules`` default to none. Returns the reveals, in
        order."""
        rng = rng or random.Random(seed)
        rules = rules or VoteRules()
        voter = voter or self.voter()
        results = []
        with self.app.app_context():
            db = get_db()
            for i in range(n):
                where = competition(i) if callable(competition) else competition
                battle = issue_battle(db, voter, where, rng=rng)
                pick = choice if isinstance(choice, str) else rng.choice(list(choice))
                results.append(
                    record_vote(
                        db, battle.token, voter, pick, k=self.app.config["ELO_K"], rules=rules
                    )
                )
        return results


@pytest.fixture
def votes(voting_app: Flask) -> Votes:
    """Casts votes on ``voting_app`` (see :class:`Votes`)."""
    return Votes(voting_app)
