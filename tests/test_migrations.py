"""The Alembic chain builds the models' schema exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from arena import schema
from arena.models import Base
from tests.conftest import fresh_database_url


def _diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_upgrade_head_matches_models(backend, postgres, tmp_path: Path):
    engine = create_engine(fresh_database_url(backend, postgres, tmp_path, "migrate"))
    try:
        schema.upgrade(engine)
        assert _diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_migrations_downgrade_to_base_and_back(backend, postgres, tmp_path: Path):
    engine = create_engine(fresh_database_url(backend, postgres, tmp_path, "downgrade"))
    try:
        schema.upgrade(engine)
        schema.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        schema.upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_migrations_form_one_linear_chain():
    script = ScriptDirectory.from_config(schema.alembic_config(create_engine("sqlite://")))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
