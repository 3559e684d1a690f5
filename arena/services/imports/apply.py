"""Applying validated votes: appended in file order and replayed into every scope's Elo, in
one transaction.

The import is equivalent to casting the votes live, one by one, in file order: the votes are
appended in file order (so their ids follow it) and every scope's Elo (competition, category,
overall) is replayed from the stored ratings through the same ``elo.update``. It takes the
same locks as a live vote, so ``arena verify`` agrees afterwards even with voters voting:
on SQLite the writer lock is held throughout (``Database.write_transaction``); on PostgreSQL
the affected rating rows are locked ``FOR UPDATE`` in (scope, model) order before they are
read, so a live vote on an affected model waits and gets a later id, and one on other models
commutes with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, insert

from arena.db import Database
from arena.models import Vote, utcnow
from arena.ratings.elo import SCORE_A
from arena.services import rating_rows
from arena.services.imports.validate import ValidatedVotes, validate_votes

CHUNK_ROWS = 100_000
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # as SQLAlchemy stores datetimes (Database.timestamp)

votes_t = Vote.__table__


@dataclass(frozen=True)
class ImportReport:
    """What an import did: votes appended, into which competitions, and how long it took."""

    rows: int
    competitions: tuple[str, ...]
    elapsed_s: float

    def summary(self) -> str:
        return (
            f"Imported {self.rows} votes into {', '.join(self.competitions)}"
            f" in {self.elapsed_s:.1f} s."
        )


def apply_votes(
    db: Database,
    votes: ValidatedVotes,
    *,
    k: float,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Append validated votes and update every affected Elo and record, in one transaction.

    The votes are inserted in file order (source ``import``, no battle or voter, created at
    their timestamp or now), and the competition, category and overall ratings of their
    models are replayed from the stored values exactly as if the votes had been cast live in
    that order.

    Args:
        db: the database.
        votes: from ``validate_votes``.
        k: the Elo K factor (``app.config["ELO_K"]``).
        progress: called with the number of votes just written, once per chunk.

    Returns:
        How many votes were imported, into which competitions, and the time taken.

    Raises:
        ArenaError: a competition's rating scopes are missing (run ``arena seed``).
    """
    started = time.perf_counter()
    frame = votes.frame
    # Everything the driver needs is formatted before the lock: voters wait only for the
    # replay and the writes.
    batches = _batches(db, frame)
    with db.write_transaction() as conn:
        # The rating rows are locked before the votes are appended, as a live vote does.
        rating_rows.apply_outcomes(conn, _outcomes(frame), k)
        batches.write(conn, progress)
    return ImportReport(
        rows=len(frame),
        competitions=tuple(votes.competitions.values()),
        elapsed_s=time.perf_counter() - started,
    )


def import_votes(
    db: Database,
    frame: pd.DataFrame,
    *,
    competition: str | None,
    k: float,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate a dump and import it, all or nothing (``validate_votes``, then ``apply_votes``).

    Args:
        db: the database.
        frame: the rows, as from ``read_votes``, in file order.
        competition: slug of the competition for every row, or None for each row's
            ``competition`` column.
        k: the Elo K factor.
        progress: called with the number of votes just written, once per chunk.

    Returns:
        How many votes were imported, into which competitions, and the time taken.

    Raises:
        ValidationError: any problem with the rows, all listed in one message; nothing is
            written.
    """
    return apply_votes(
        db, validate_votes(db, frame, competition=competition), k=k, progress=progress
    )


@dataclass(frozen=True)
class _Batches:
    """The vote rows in chunks, as the driver takes them: the SQL and the chunks' data.

    SQLite: an INSERT run with executemany over rows of plain values. PostgreSQL: ``COPY``
    fed CSV text (several times faster than any INSERT); it keeps the rows in input order,
    so the ids the sequence hands out follow the file as well.
    """

    sql: str
    chunks: list[tuple[int, Any]]  # (rows, CSV text or a list per column)
    copy: bool

    def write(self, conn: Connection, progress: Callable[[int], None] | None) -> None:
        cursor = conn.connection.cursor()
        try:
            if self.copy:
                with cursor.copy(self.sql) as copy:
                    for rows, text in self.chunks:
                        copy.write(text)
                        if progress:
                            progress(rows)
            else:
                for rows, values in self.chunks:
                    cursor.executemany(self.sql, zip(*values, strict=True))
                    if progress:
                        progress(rows)
        finally:
            cursor.close()


def _batches(db: Database, frame: pd.DataFrame) -> _Batches:
    """The votes formatted for ``db``'s driver, in chunks of ``CHUNK_ROWS``."""
    columns = frame[["competition_id", "prompt_id", "model_a_id", "model_b_id", "winner"]].assign(
        source="import"
    )
    stamps = frame["created_at"].dt.strftime(_SQLITE_FORMAT)
    now = utcnow().strftime(_SQLITE_FORMAT)
    # SQLite stores SQLAlchemy's text format (naive UTC); PostgreSQL gets the offset too.
    columns["created_at"] = stamps.where(frame["created_at"].notna(), now) + (
        "" if db.is_sqlite else "+00"
    )
    starts = range(0, len(columns), CHUNK_ROWS)
    if not db.is_sqlite:
        sql = f"COPY votes ({', '.join(columns.columns)}) FROM STDIN (FORMAT csv)"
        chunks = []
        for start in starts:
            chunk = columns.iloc[start : start + CHUNK_ROWS]
            chunks.append((len(chunk), chunk.to_csv(header=False, index=False)))
        return _Batches(sql, chunks, copy=True)
    compiled = (
        insert(votes_t)
        .values({name: bindparam(name) for name in columns.columns})
        .compile(dialect=db.engine.dialect)
    )
    order = list(compiled.positiontup or columns.columns)
    values = [
        columns[name].astype(object).where(columns[name].notna(), None).tolist() for name in order
    ]
    chunks = [
        (min(CHUNK_ROWS, len(columns) - start), [v[start : start + CHUNK_ROWS] for v in values])
        for start in starts
    ]
    return _Batches(str(compiled), chunks, copy=False)


def _outcomes(frame: pd.DataFrame) -> rating_rows.Outcomes:
    return rating_rows.Outcomes(
        competition_ids=frame["competition_id"].to_numpy(),
        model_a=frame["model_a_id"].to_numpy(),
        model_b=frame["model_b_id"].to_numpy(),
        scores=frame["winner"].map(SCORE_A).to_numpy(dtype=float),
    )
