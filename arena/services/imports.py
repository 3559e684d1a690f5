"""`arena import-votes`: battles from a public arena dump, validated in full, imported at once.

A dump is CSV, JSON or JSON Lines with the columns of public arena battle logs: ``model_a``,
``model_b`` and ``winner`` (``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)``), and
optionally ``tstamp`` / ``timestamp`` / ``created_at`` (unix seconds or ISO 8601), ``prompt``
(a prompt key or text of the competition) and ``competition`` (a slug, per row).

Three steps, each a public function: ``read_votes`` parses the file into a DataFrame,
``validate_votes`` checks every row at once with pandas and resolves names to ids (any problem
is one ``ValidationError`` listing them all, and nothing is written), and ``apply_votes``
writes them in one transaction. ``import_votes`` runs the last two.

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

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from arena.db import Database
from arena.errors import ArenaError, ValidationError
from arena.models import (
    Competition,
    CompetitionModel,
    Model,
    Prompt,
    Rating,
    Scope,
    Vote,
    utcnow,
)
from arena.models.arena import WINNERS
from arena.ratings import elo
from arena.services.scopes import ensure_scopes_and_ratings

REQUIRED = ("model_a", "model_b", "winner")
#: Timestamp column names, in order of preference (``created_at`` is what our export writes).
TIMESTAMP_COLUMNS = ("tstamp", "timestamp", "created_at")
#: Rows written per statement (SQLite) or COPY write (PostgreSQL); progress is reported per chunk.
CHUNK_ROWS = 100_000
#: How many row numbers and distinct values a problem lists before "…".
SHOW_ROWS = 5
SHOW_VALUES = 10

#: Timestamps outside 1970-9999 (in microseconds since the epoch) are taken for mistakes,
#: such as milliseconds given as seconds.
_LATEST_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z
_NAT = np.iinfo(np.int64).min  # numpy's NaT as an int64
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # as SQLAlchemy stores datetimes (Database.timestamp)

votes_t = Vote.__table__
ratings_t = Rating.__table__


@dataclass(frozen=True)
class ValidatedVotes:
    """Votes that passed every check, resolved to database ids, in file order.

    ``frame`` has one row per vote with the columns ``competition_id``, ``prompt_id``
    (nullable ``Int64``), ``model_a_id``, ``model_b_id``, ``winner`` and ``created_at``
    (``datetime64[us, UTC]``, ``NaT`` where the file gave no timestamp).
    ``competitions`` maps each competition id in it to its slug, in order of first use.
    """

    frame: pd.DataFrame
    competitions: dict[int, str]

    @property
    def rows(self) -> int:
        return len(self.frame)


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


# --- reading -----------------------------------------------------------------------------


def read_votes(path: Path) -> pd.DataFrame:
    """Parse a vote dump into a DataFrame, one row per battle, columns as in the file.

    The format comes from the extension (``.csv``, ``.json``, ``.jsonl`` / ``.ndjson``), or
    is sniffed from the first character otherwise. JSON is a list of objects or an object
    with a ``votes`` or ``battles`` list; JSON Lines is one object per line. CSV cells are
    read as text (empty cells as ``""``); JSON values keep their types.

    Raises:
        ValidationError: the file is missing, empty, not valid CSV/JSON, or JSON of another
            shape.
    """
    path = Path(path)
    try:
        kind = _format(path)
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            frame = _records_frame(path, _json_records(path, lines=kind == "jsonl"))
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file", field="file") from None
    except pd.errors.EmptyDataError:
        raise ValidationError(f"{path.name} is empty: no votes to import", field="file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path.name} is not valid CSV: {exc}", field="file") from None
    if frame.empty:
        raise ValidationError(f"{path.name} has no votes to import", field="file")
    return frame


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json", ".jsonl"):
        return suffix[1:]
    if suffix == ".ndjson":
        return "jsonl"
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        head = file.read(4096).lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        # One complete object on the first line, and it is not a {"votes": [...]} wrapper.
        try:
            first = json.loads(head.splitlines()[0])
        except json.JSONDecodeError:
            return "json"
        wrapper = isinstance(first, dict) and ({"votes", "battles"} & first.keys())
        return "json" if wrapper else "jsonl"
    return "csv"


def _json_records(path: Path, *, lines: bool) -> list[Any]:
    with path.open(encoding="utf-8-sig") as file:
        if lines:
            records = []
            for number, line in enumerate(file, start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ValidationError(
                            f"{path.name} line {number} is not valid JSON: {exc.msg}", field="file"
                        ) from None
            return records
        text = file.read()
    if not text.strip():
        raise pd.errors.EmptyDataError
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            field="file",
        ) from None
    if isinstance(data, dict):
        key = next((k for k in ("votes", "battles") if isinstance(data.get(k), list)), None)
        if key is None:
            raise ValidationError(
                f"{path.name}: a JSON object must hold the votes as a list under"
                ' "votes" or "battles"',
                field="file",
            )
        data = data[key]
    if not isinstance(data, list):
        raise ValidationError(f"{path.name}: JSON votes must be a list of objects", field="file")
    return data


def _records_frame(path: Path, records: list[Any]) -> pd.DataFrame:
    not_objects = [i for i, record in enumerate(records) if not isinstance(record, dict)]
    if not_objects:
        raise ValidationError(
            f"{path.name}: every vote must be a JSON object; {_rows_of(np.array(not_objects))}"
            " are not",
            field="file",
        )
    return pd.DataFrame.from_records(records)


# --- validating --------------------------------------------------------------------------


def validate_votes(db: Database, frame: pd.DataFrame, *, competition: str | None) -> ValidatedVotes:
    """Check every row of a dump and resolve models, competitions and prompts to ids.

    Column names are matched case-insensitively and cells are stripped. A model is found by
    its slug (``hidream-i1-fast``) or its exact name (``HiDream I1 Fast``); a prompt by its
    key or text within the row's competition (no match: no prompt). A timestamp is unix
    seconds or ISO 8601 (a naive one is UTC), between 1970 and 9999. A competition of any
    status takes imports: historical battles may well belong to a closed one.

    Args:
        db: the database to resolve names against (read only).
        frame: the rows, as from ``read_votes``, in file order.
        competition: slug of the competition for every row; None takes each row's
            ``competition`` column (the option wins when both are given).

    Returns:
        The votes, resolved to ids, in file order.

    Raises:
        ValidationError: anything wrong, all of it in one message: missing columns, no rows,
            blank or unknown models, a model against itself, bad winners, an unknown or
            missing competition, models not entered in their competition, malformed
            timestamps. Each problem names its first rows (data rows counted from 1).
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    problems: list[str] = []
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        _refuse([f"columns given twice: {', '.join(duplicated)}"])
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        problems.append(
            f"missing columns: {', '.join(missing)} (a dump needs {', '.join(REQUIRED)})"
        )
    if frame.empty:
        problems.append("no votes to import")
    with db.engine.connect() as conn:
        ref = _Reference.load(conn)
    n = len(frame)

    competition_ids = _resolve_competitions(frame, competition, ref, problems)
    names = {side: _text(frame[side]) for side in ("model_a", "model_b") if side in frame.columns}
    model_ids = {side: _lookup(values, ref.model_ids) for side, values in names.items()}
    if model_ids:
        texts = pd.concat(names.values())  # indexed by row
        ids = np.concatenate(list(model_ids.values()))
        unknown = ids < 0
        if unknown.any():
            rows = np.zeros(n, dtype=bool)
            for side_ids in model_ids.values():
                rows |= side_ids < 0
            problems.append(
                f"unknown models (not a model slug or name): {_values_of(texts[unknown])};"
                f" {_rows_of(rows)}"
            )
    if len(model_ids) == 2:
        a, b = model_ids["model_a"], model_ids["model_b"]
        itself = (a == b) & (a >= 0)
        if itself.any():
            problems.append(f"a model against itself in {_count(itself)}; {_rows_of(itself)}")
        if competition_ids is not None:
            _check_entries(competition_ids, a, b, ref, problems)

    winners = None
    if "winner" in frame.columns:
        winners = _text(frame["winner"])
        bad = ~winners.isin(WINNERS).to_numpy()
        if bad.any():
            problems.append(
                f"bad winners: {_values_of(winners[bad])} (expected one of"
                f" {', '.join(WINNERS)}); {_rows_of(bad)}"
            )
    created_at = _timestamps(frame, problems)
    if problems:
        _refuse(problems)

    assert competition_ids is not None and winners is not None  # no problems: all resolved
    prompt_ids = _prompts(frame, competition_ids, ref)
    used = pd.unique(competition_ids)
    return ValidatedVotes(
        frame=pd.DataFrame(
            {
                "competition_id": competition_ids,
                "prompt_id": prompt_ids,
                "model_a_id": model_ids["model_a"],
                "model_b_id": model_ids["model_b"],
                "winner": winners,
                "created_at": created_at,
            }
        ),
        competitions={int(cid): ref.competitions[int(cid)][0] for cid in used},
    )


_ENTRY_BASE = 1 << 31  # entry code = competition_id * _ENTRY_BASE + model_id (32-bit ids)


@dataclass(frozen=True)
class _Reference:
    """The lookups validation needs, read once."""

    model_ids: dict[str, int]  # by slug and by name (a slug wins over another model's name)
    model_slugs: dict[int, str]
    competition_ids: dict[str, int]
    competitions: dict[int, tuple[str, int]]  # id -> (slug, category_id)
    entries: np.ndarray  # entry codes of competition_models
    prompts: pd.DataFrame  # competition_id, key, text, id

    @classmethod
    def load(cls, conn: Connection) -> _Reference:
        models = conn.execute(select(Model.id, Model.slug, Model.name).order_by(Model.id)).all()
        model_ids = {name: id_ for id_, _slug, name in models}
        model_ids.update({slug: id_ for id_, slug, _name in models})
        competitions = conn.execute(
            select(Competition.id, Competition.slug, Competition.category_id)
        ).all()
        entries = conn.execute(select(CompetitionModel.competition_id, CompetitionModel.model_id))
        prompts = conn.execute(
            select(Prompt.competition_id, Prompt.key, Prompt.text, Prompt.id).order_by(
                Prompt.competition_id, Prompt.position, Prompt.id
            )
        ).all()
        return cls(
            model_ids=model_ids,
            model_slugs={id_: slug for id_, slug, _name in models},
            competition_ids={slug: id_ for id_, slug, _category in competitions},
            competitions={id_: (slug, category) for id_, slug, category in competitions},
            entries=np.array([c * _ENTRY_BASE + m for c, m in entries], dtype=np.int64),
            prompts=pd.DataFrame(prompts, columns=["competition_id", "key", "text", "id"]),
        )


def _text(column: pd.Series) -> pd.Series:
    """Cells as stripped strings; missing cells (None, NaN) become ``""``."""
    return column.astype(object).where(column.notna(), "").astype(str).str.strip()


def _lookup(values: pd.Series, ids: dict[str, int]) -> np.ndarray:
    """Ids of ``values`` (-1 where unknown): resolved once per distinct value, then spread."""
    codes, uniques = pd.factorize(values)
    table = np.array([ids.get(value, -1) for value in uniques] + [-1], dtype=np.int64)
    return table[codes]


def _resolve_competitions(
    frame: pd.DataFrame, slug: str | None, ref: _Reference, problems: list[str]
) -> np.ndarray | None:
    """Competition id per row, or None (and a problem) when they cannot all be resolved."""
    if slug is not None:
        if slug not in ref.competition_ids:
            problems.append(f"unknown competition {slug!r}")
            return None
        return np.full(len(frame), ref.competition_ids[slug], dtype=np.int64)
    if "competition" not in frame.columns:
        problems.append("no competition: pass --competition SLUG or give a competition column")
        return None
    slugs = _text(frame["competition"])
    ids = _lookup(slugs, ref.competition_ids)
    unknown = ids < 0
    if unknown.any():
        problems.append(f"unknown competitions: {_values_of(slugs[unknown])}; {_rows_of(unknown)}")
        return None
    return ids


def _check_entries(
    competition_ids: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    ref: _Reference,
    problems: list[str],
) -> None:
    """Every model must be entered in its row's competition: it has no rating rows otherwise."""
    outsiders = []
    rows = np.zeros(len(a), dtype=bool)
    for side in (a, b):
        known = side >= 0
        out = known & ~np.isin(competition_ids * _ENTRY_BASE + side, ref.entries)
        rows |= out
        outsiders.append(
            pd.DataFrame(
                {"competition": competition_ids[out], "model": side[out]},
                index=np.flatnonzero(out),
            )
        )
    if not rows.any():
        return
    pairs = pd.concat(outsiders)
    labels = (
        pairs["model"].map(ref.model_slugs)
        + " in "
        + pairs["competition"].map(lambda cid: ref.competitions[cid][0])
    )
    problems.append(
        f"models not entered in the competition (so not rated there; enter them first):"
        f" {_values_of(labels, quote=False)}; {_rows_of(rows)}"
    )


def _timestamps(frame: pd.DataFrame, problems: list[str]) -> pd.Series:
    """Each row's timestamp as ``datetime64[us, UTC]``, ``NaT`` where none is given."""
    column = next((c for c in TIMESTAMP_COLUMNS if c in frame.columns), None)
    micros = np.full(len(frame), _NAT, dtype=np.int64)
    if column is not None:
        raw = frame[column]
        text = _text(raw)
        given = (text != "").to_numpy()
        numbers = raw if raw.dtype.kind in "if" else text.where(given, None)
        seconds = pd.to_numeric(numbers, errors="coerce").to_numpy(dtype=float)
        numeric = ~np.isnan(seconds)
        # Rounded to microseconds: seconds as floats are rarely exact (1700000000.847 is
        # 1700000000.84699988...), and out-of-range values must not overflow the int64.
        scaled = np.where(numeric, np.round(seconds * 1e6), -1.0)
        fits = numeric & (scaled >= 0) & (scaled <= _LATEST_US)
        micros[fits] = scaled[fits].astype(np.int64)
        iso = given & ~numeric
        if iso.any():
            parsed = pd.to_datetime(text[iso], utc=True, format="ISO8601", errors="coerce")
            naive = parsed.dt.tz_convert(None).dt.round("us").dt.as_unit("us")
            parsed_us = naive.to_numpy().view(np.int64)
            micros[iso] = np.where(parsed_us >= 0, parsed_us, _NAT)  # NaT or before 1970
        bad = given & (micros == _NAT)
        if bad.any():
            problems.append(
                f"malformed timestamps in {column} (expected unix seconds or ISO 8601, years"
                f" 1970 to 9999): {_values_of(text[bad])}; {_rows_of(bad)}"
            )
    return pd.Series(micros.view("datetime64[us]"), index=frame.index).dt.tz_localize("UTC")


def _prompts(frame: pd.DataFrame, competition_ids: np.ndarray, ref: _Reference) -> pd.Series:
    """Prompt id per row where the ``prompt`` cell is a key or text of the row's competition."""
    if "prompt" not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    lookup: dict[tuple[int, str], int] = {}
    # Texts first, keys last: a key wins over another prompt's identical text; and the
    # first prompt (by position) wins among identical texts.
    for row in ref.prompts.iloc[::-1].itertuples(index=False):
        lookup[(row.competition_id, row.text.strip())] = row.id
    for row in ref.prompts.itertuples(index=False):
        lookup[(row.competition_id, row.key)] = row.id
    pairs = pd.MultiIndex.from_arrays([competition_ids, _text(frame["prompt"])])
    codes, uniques = pairs.factorize()
    table = pd.array([lookup.get(pair) for pair in uniques] + [None], dtype="Int64")
    return pd.Series(table[codes], index=frame.index)


def _refuse(problems: list[str]) -> None:
    listed = "\n".join(f"- {problem}" for problem in problems)
    raise ValidationError(
        f"nothing imported: {len(problems)} problem{'s' if len(problems) > 1 else ''}"
        f" (rows are data rows, counted from 1):\n{listed}",
        field="file",
    )


def _count(mask: np.ndarray) -> str:
    n = int(mask.sum())
    return f"{n} row{'s' if n != 1 else ''}"


def _rows_of(mask_or_positions: np.ndarray) -> str:
    """``rows 3, 7, 9, …`` for a boolean mask or 0-based positions."""
    positions = (
        np.flatnonzero(mask_or_positions) if mask_or_positions.dtype == bool else mask_or_positions
    )
    shown = ", ".join(str(p + 1) for p in positions[:SHOW_ROWS])
    more = ", …" if len(positions) > SHOW_ROWS else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def _values_of(values: pd.Series, *, quote: bool = True) -> str:
    """The distinct values, most frequent first, with their counts: ``'x' (3 rows), …``."""
    # Equal counts keep the order of first appearance in the file (index = row).
    ordered = values.sort_index(kind="stable").value_counts(sort=False)
    counts = ordered.sort_values(ascending=False, kind="stable")
    shown = [
        f"{(repr(v) if v else '(blank)') if quote else v} ({n} row{'s' if n != 1 else ''})"
        for v, n in counts.head(SHOW_VALUES).items()
    ]
    if len(counts) > SHOW_VALUES:
        shown.append(f"and {len(counts) - SHOW_VALUES} more")
    return ", ".join(shown)


# --- writing -----------------------------------------------------------------------------


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
        state = _RatingState.lock(conn, frame)
        state.replay(frame, k)
        batches.write(conn, progress)
        state.store(conn)
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


class _RatingState:
    """The locked rating rows of every (scope, model) the votes touch, and their replay.

    Ratings live in flat lists indexed by slot = scope index × models + model index, so the
    replay loop touches only Python ints and floats.
    """

    def __init__(self, scopes: list[int], models: np.ndarray, rows: list[Any]) -> None:
        self.scopes = scopes
        self.models = models
        size = len(scopes) * len(models)
        self.elo = [elo.INITIAL] * size
        self.stored = np.zeros((size, 3), dtype=np.int64)  # wins, losses, ties
        self.added = np.zeros((size, 3), dtype=np.int64)
        self.present = np.zeros(size, dtype=bool)
        scope_index = {scope_id: i for i, scope_id in enumerate(scopes)}
        model_index = {int(model_id): i for i, model_id in enumerate(models)}
        for scope_id, model_id, rating, wins, losses, ties, _battles in rows:
            slot = scope_index[scope_id] * len(models) + model_index[model_id]
            self.elo[slot] = rating
            self.stored[slot] = (wins, losses, ties)
            self.present[slot] = True
        self.scope_index = scope_index
        self.slots: list[tuple[np.ndarray, np.ndarray]] = []

    @classmethod
    def lock(cls, conn: Connection, frame: pd.DataFrame) -> _RatingState:
        """Lock (PostgreSQL) and read the rating rows; create any that are missing."""
        competition_ids = [int(c) for c in pd.unique(frame["competition_id"])]
        targets = _scope_ids(conn, competition_ids)
        scopes = sorted({scope for pair in targets.values() for scope in pair})
        models = np.unique(np.concatenate([frame["model_a_id"], frame["model_b_id"]]))
        state = cls(scopes, models, _lock_rows(conn, scopes, models))
        state._map_slots(frame, targets)
        if not state._all_present():
            # Models entered after the last `arena seed` have no rating rows yet.
            with Session(bind=conn) as session:
                ensure_scopes_and_ratings(session)
            state = cls(scopes, models, _lock_rows(conn, scopes, models))
            state._map_slots(frame, targets)
            if not state._all_present():
                raise ArenaError("rating rows are missing; run `arena seed`")
        return state

    def _map_slots(self, frame: pd.DataFrame, targets: dict[int | None, tuple[int, int]]) -> None:
        """Slots of A and B per row in each scope kind: competition, category, overall."""
        m = len(self.models)
        a = np.searchsorted(self.models, frame["model_a_id"].to_numpy())
        b = np.searchsorted(self.models, frame["model_b_id"].to_numpy())
        competitions, codes = np.unique(frame["competition_id"].to_numpy(), return_inverse=True)
        for kind in (0, 1):  # the competition's scope, then its category's
            index = np.array([self.scope_index[targets[int(c)][kind]] for c in competitions])
            scope = index[codes] * m
            self.slots.append((scope + a, scope + b))
        overall = self.scope_index[targets[None][0]] * m
        self.slots.append((overall + a, overall + b))

    def _all_present(self) -> bool:
        return all(self.present[a].all() and self.present[b].all() for a, b in self.slots)

    def replay(self, frame: pd.DataFrame, k: float) -> None:
        """Apply the votes in order to every scope, as live votes would have been."""
        winners = frame["winner"]
        scores = winners.map(elo.SCORE_A).to_numpy(dtype=float)
        score_list = scores.tolist()
        ratings, step, k = self.elo, elo.update, float(k)
        for a_slots, b_slots in self.slots:
            # Scopes are independent: replaying them one after another equals interleaving.
            for a, b, score in zip(a_slots.tolist(), b_slots.tolist(), score_list, strict=True):
                ratings[a], ratings[b] = step(ratings[a], ratings[b], score, k)
            size = len(ratings)
            for column, (a_scores, b_scores) in enumerate(((1.0, 0.0), (0.0, 1.0), (0.5, 0.5))):
                self.added[:, column] += np.bincount(
                    a_slots[scores == a_scores], minlength=size
                ) + np.bincount(b_slots[scores == b_scores], minlength=size)

    def store(self, conn: Connection) -> None:
        """One UPDATE per changed rating row (executemany), with the replayed values."""
        m = len(self.models)
        totals = self.stored + self.added
        changed = np.flatnonzero(self.added.sum(axis=1))
        params = [
            {
                "s": self.scopes[slot // m],
                "m": int(self.models[slot % m]),
                "elo": self.elo[slot],
                "wins": int(totals[slot, 0]),
                "losses": int(totals[slot, 1]),
                "ties": int(totals[slot, 2]),
                "battles": int(totals[slot].sum()),
            }
            for slot in changed
        ]
        if params:
            conn.execute(_UPDATE_RATING, params)


_UPDATE_RATING = (
    update(ratings_t)
    .where(ratings_t.c.scope_id == bindparam("s"), ratings_t.c.model_id == bindparam("m"))
    .values(
        elo=bindparam("elo"),
        wins=bindparam("wins"),
        losses=bindparam("losses"),
        ties=bindparam("ties"),
        battles=bindparam("battles"),
    )
)


def _scope_ids(conn: Connection, competition_ids: list[int]) -> dict[int | None, tuple[int, int]]:
    """competition id -> (its scope, its category's scope); None -> (overall, overall).

    Raises:
        ArenaError: a scope is missing (the seeds were never loaded).
    """
    categories = dict(
        conn.execute(
            select(Competition.id, Competition.category_id).where(
                Competition.id.in_(competition_ids)
            )
        ).all()
    )
    rows = conn.execute(
        select(Scope.id, Scope.kind, Scope.competition_id, Scope.category_id).where(
            or_(
                Scope.kind == "overall",
                Scope.competition_id.in_(competition_ids),
                Scope.category_id.in_(set(categories.values())),
            )
        )
    ).all()
    by_competition = {r.competition_id: r.id for r in rows if r.kind == "competition"}
    by_category = {r.category_id: r.id for r in rows if r.kind == "category"}
    overall = next((r.id for r in rows if r.kind == "overall"), None)
    targets: dict[int | None, tuple[int, int]] = {}
    for cid in competition_ids:
        if cid not in by_competition or categories[cid] not in by_category or overall is None:
            raise ArenaError("the competition's rating scopes are missing; run `arena seed`")
        targets[cid] = (by_competition[cid], by_category[categories[cid]])
    targets[None] = (overall, overall)
    return targets


def _lock_rows(conn: Connection, scopes: list[int], models: np.ndarray) -> list[Any]:
    """Read the rating rows, locking them on PostgreSQL in the order live votes lock them."""
    return conn.execute(
        select(
            ratings_t.c.scope_id,
            ratings_t.c.model_id,
            ratings_t.c.elo,
            ratings_t.c.wins,
            ratings_t.c.losses,
            ratings_t.c.ties,
            ratings_t.c.battles,
        )
        .where(
            ratings_t.c.scope_id.in_(scopes),
            ratings_t.c.model_id.in_([int(m) for m in models]),
        )
        # (scope_id, model_id) order, as a live vote locks its rows: no deadlock between them.
        .order_by(ratings_t.c.scope_id, ratings_t.c.model_id)
        .with_for_update()
    ).all()
