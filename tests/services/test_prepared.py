"""``Prepared`` statements run on the driver's cursor but fail like SQLAlchemy statements.

The vote path runs its statements on the raw cursor for speed; a driver error there must
still reach callers (and the web app's 503 handler) as SQLAlchemy's ``OperationalError``, and
a connection the server dropped must leave the pool. A raw ``psycopg`` error escaping here
once turned a PostgreSQL restart into 500s.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import column, select, table, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from arena.db import Prepared
from arena.web.db import get_db

MISSING = Prepared(select(column("x")).select_from(table("no_such_table")))
ONE = Prepared(select(text("1")))


def test_a_driver_error_is_wrapped_as_sqlalchemy_does(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        with (
            db.engine.connect() as conn,
            conn.begin(),
            pytest.raises((OperationalError, ProgrammingError)) as caught,
        ):
            MISSING.execute(conn, {})
        assert "no_such_table" in str(caught.value)
        assert not caught.value.connection_invalidated


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_dropped_connection_is_an_operational_error_and_leaves_the_pool(
    app: Flask, postgres
) -> None:
    # Only a server drops a connection; the SQLite run checks the wrapping above.
    with app.app_context():
        db = get_db()
        with db.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.commit()
            with postgres.admin.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError) as caught:
                ONE.execute(conn, {})
            assert caught.value.connection_invalidated and conn.invalidated
        with db.engine.connect() as conn:  # the pool hands out a live connection
            assert ONE.execute(conn, {}) == [(1,)]
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
