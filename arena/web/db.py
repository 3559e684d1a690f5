"""The Flask glue of the database: one ``Database`` per app, a session per request or command."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from arena.db import Database


def init_app(app: Flask) -> None:
    """Create the app's Database and close the request's session when the context ends."""
    database = Database(app.config["DATABASE_URL"])
    app.extensions["arena.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_db() -> Database:
    """The current app's Database."""
    return current_app.extensions["arena.db"]


def get_session() -> Session:
    """The session of the current request or command, created on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session
