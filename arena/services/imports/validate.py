"""Validating a vote dump: every row checked at once with pandas, names resolved to ids.

Any problem is one ``ValidationError`` listing them all, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from arena.db import Database
from arena.models import Competition, CompetitionModel, Model, Prompt
from arena.models.arena import WINNERS
from arena.services.imports.messages import count, refuse, rows_of, values_of

REQUIRED = ("model_a", "model_b", "winner")
#: Timestamp column names, in order of preference (``created_at`` is what our export writes).
TIMESTAMP_COLUMNS = ("tstamp", "timestamp", "created_at")

#: Timestamps outside 1970-9999 (in microseconds since the epoch) are taken for mistakes,
#: such as milliseconds given as seconds.
_LATEST_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z
_NAT = np.iinfo(np.int64).min  # numpy's NaT as an int64


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
        refuse([f"columns given twice: {', '.join(duplicated)}"])
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
                f"unknown models (not a model slug or name): {values_of(texts[unknown])};"
                f" {rows_of(rows)}"
            )
    if len(model_ids) == 2:
        a, b = model_ids["model_a"], model_ids["model_b"]
        itself = (a == b) & (a >= 0)
        if itself.any():
            problems.append(f"a model against itself in {count(itself)}; {rows_of(itself)}")
        if competition_ids is not None:
            _check_entries(competition_ids, a, b, ref, problems)

    winners = None
    if "winner" in frame.columns:
        winners = _text(frame["winner"])
        bad = ~winners.isin(WINNERS).to_numpy()
        if bad.any():
            problems.append(
                f"bad winners: {values_of(winners[bad])} (expected one of"
                f" {', '.join(WINNERS)}); {rows_of(bad)}"
            )
    created_at = _timestamps(frame, problems)
    if problems:
        refuse(problems)

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
        problems.append(f"unknown competitions: {values_of(slugs[unknown])}; {rows_of(unknown)}")
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
        f" {values_of(labels, quote=False)}; {rows_of(rows)}"
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
                f" 1970 to 9999): {values_of(text[bad])}; {rows_of(bad)}"
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
