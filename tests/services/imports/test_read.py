"""Reading vote dumps: CSV, JSON, JSON Lines, sniffed formats, malformed files refused."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from arena.errors import ValidationError
from arena.services.imports.read import read_votes
from tests.services.imports.dumps import (
    FANTASY,
    ROWS,
    as_records,
    import_dump,
    vote_count,
    write_csv,
)


def test_read_votes_reads_jsonl_and_sniffs_files_without_extension(tmp_path):
    records = as_records(ROWS)
    expected = pd.DataFrame(records)
    jsonl = tmp_path / "votes.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (tmp_path / "votes-json").write_text(json.dumps({"votes": records}))
    (tmp_path / "votes-jsonl").write_text(jsonl.read_text())
    write_csv(tmp_path / "votes-csv", ROWS)

    for name in ("votes.jsonl", "votes-json", "votes-jsonl", "votes-csv"):
        frame = read_votes(tmp_path / name)
        pd.testing.assert_frame_equal(frame.astype(object), expected.astype(object), name)


@pytest.mark.parametrize(
    ("content", "competition", "expected"),
    [
        ("model_a,model_b\nsdxl,sana\n", FANTASY, "missing columns: winner"),
        ("model_a,model_b,winner\nsdxl,sana,tie\n", "no-such-thing", "unknown competition"),
        ("model_a,model_b,winner\nsdxl,sana,tie\n", None, "no competition: pass --competition"),
        (
            "model_a,model_b,winner,competition\nsdxl,sana,tie,fantasy\nsdxl,sana,tie,\n",
            None,
            "unknown competitions: 'fantasy' (1 row), (blank) (1 row); rows 1, 2",
        ),
        ("model_a,model_b,winner\n", FANTASY, "has no votes"),
        ("", FANTASY, "is empty"),
        ("[]", FANTASY, "has no votes"),
        ('{"rows": []}', FANTASY, 'under "votes" or "battles"'),
        ('[{"model_a": "sdxl"}, 3]', FANTASY, "row 2 are not"),
        ("[{", FANTASY, "is not valid JSON"),
    ],
)
def test_import_votes_refuses_malformed_files(db, tmp_path, content, competition, expected):
    suffix = ".json" if content.startswith(("[", "{")) else ".csv"
    path = tmp_path / f"votes{suffix}"
    path.write_text(content)

    with pytest.raises(ValidationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        import_dump(db, path, competition=competition)
    assert vote_count(db) == 0
