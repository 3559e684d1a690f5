"""The Flask glue of the database: one ``Database`` per app, a session per request or command."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, make_response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from arena.db import Database, DatabaseUnavailable


def init_app(app: Flask) -> None:
    """Create the app's Database, close the request's session when the context ends, and
    answer a database that cannot serve (down, restarting, busy, full) with a 503."""
    database = Database(
        app.config["DATABASE_URL"],
        sqlite_synchronous=app.config.get("SQLITE_SYNCHRONOUS", "full"),
    )
    app.extensions["arena.db"] = database

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(error: Exception) -> Any:
        # The DBAPI's OperationalError is the server's or the file's state (a dropped
        # connection, a restart, a lock held too long, a full disk), not a bug of the
        # request: the client gets a 503 it may retry, not an opaque 500.
        from arena.web.errors import respond

        app.logger.warning("database unavailable: %s", str(error).splitlines()[0])
        response = make_response(
            respond(
                DatabaseUnavailable(
                    "The database is unavailable right now. Please try again in a few seconds."
                )
            )
        )
        response.headers["Retry-After"] = "5"
        return response

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
