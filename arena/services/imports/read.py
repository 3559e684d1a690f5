"""Reading a vote dump (CSV, JSON or JSON Lines) into a DataFrame, columns as in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arena.errors import ValidationError
from arena.services.imports.messages import rows_of


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
            f"{path.name}: every vote must be a JSON object; {rows_of(np.array(not_objects))}"
            " are not",
            field="file",
        )
    return pd.DataFrame.from_records(records)
