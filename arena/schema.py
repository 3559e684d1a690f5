"""Alembic wiring: run the migration chain in ``migrations/`` against an engine."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from arena import ROOT


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for our ``migrations/`` folder that runs on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""
    command.downgrade(alembic_config(engine), revision)
