"""Validating vote dumps: every problem listed at once and nothing written; names, prompts and
timestamps resolved."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from arena.errors import ValidationError
from arena.models import Competition, Prompt, Vote
from tests.services.imports.dumps import (
    COLUMNS,
    FANTASY,
    FANTASY_II,
    import_dump,
    stored_ratings,
    vote_count,
    write_csv,
)


def test_validate_votes_lists_every_problem_at_once_and_writes_nothing(db, tmp_path):
    rows = [
        ("sdxl", "flux-1-dev", "model_a", "1700000000"),  # fine
        ("sdxl", "midjourney-v7", "model_a", ""),  # unknown model
        ("Midjourney v7", "sdxl", "left", "1700000000"),  # unknown model, bad winner
        ("sdxl", "Stable Diffusion XL", "model_b", ""),  # against itself (slug and name)
        ("sdxl", "kolors", "model_a", "yesterday"),  # not entered, bad timestamp
        ("sana", "sdxl", "LEFT", "1700000000000"),  # not entered, bad winner, milliseconds
        ("", "sdxl", "", "1969-12-31T23:59:59Z"),  # blank model, blank winner, before 1970
        ("midjourney-v7", "sdxl", "model_b", ""),  # unknown model again
    ]
    path = write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp"))
    before = stored_ratings(db)

    with pytest.raises(ValidationError) as caught:
        import_dump(db, path, competition=FANTASY_II)

    message = caught.value.message
    assert message.startswith("nothing imported: 5 problems")
    lines = message.splitlines()[1:]
    assert lines == [
        "- unknown models (not a model slug or name): 'midjourney-v7' (2 rows),"
        " 'Midjourney v7' (1 row), (blank) (1 row); rows 2, 3, 7, 8",
        "- a model against itself in 1 row; row 4",
        "- models not entered in the competition (so not rated there; enter them first):"
        " kolors in fantasy-warrior-ii (1 row),"
        " sana in fantasy-warrior-ii (1 row); rows 5, 6",
        "- bad winners: 'left' (1 row), 'LEFT' (1 row), (blank) (1 row) (expected one of"
        " model_a, model_b, tie, tie (bothbad)); rows 3, 6, 7",
        "- malformed timestamps in tstamp (expected unix seconds or ISO 8601, years 1970 to"
        " 9999): 'yesterday' (1 row), '1700000000000' (1 row), '1969-12-31T23:59:59Z'"
        " (1 row); rows 5, 6, 7",
    ]
    assert vote_count(db) == 0
    assert stored_ratings(db) == before


def test_validate_votes_shows_the_first_rows_and_the_most_frequent_values(db, tmp_path):
    rows = [("sdxl", f"unknown-{i % 12}", "model_a") for i in range(40)]
    with pytest.raises(ValidationError) as caught:
        import_dump(db, write_csv(tmp_path / "votes.csv", rows))

    message = caught.value.message
    assert "'unknown-0' (4 rows)" in message and "and 2 more" in message
    assert message.endswith("rows 1, 2, 3, 4, 5, …")


def test_import_votes_reads_timestamps_and_matches_prompts(db, tmp_path):
    with db.session() as session:
        prompts = session.execute(
            select(Prompt.key, Prompt.text, Prompt.id)
            .join(Competition)
            .where(Competition.slug == FANTASY)
            .order_by(Prompt.position)
        ).all()
    rows = [
        ("sdxl", "sana", "model_a", "1700000000.847", prompts[0].key),
        ("sdxl", "sana", "model_a", "2024-05-01T12:30:00Z", prompts[1].text),
        ("sdxl", "sana", "model_a", "2024-05-01 14:30:00.25+02:00", "a prompt we never had"),
        ("sdxl", "sana", "model_a", "2024-05-01", ""),
        ("sdxl", "sana", "model_a", "", prompts[2].key),
    ]
    path = write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp", "prompt"))
    import_dump(db, path)

    with db.session() as session:
        votes = session.execute(select(Vote.created_at, Vote.prompt_id).order_by(Vote.id)).all()
    utc = dt.UTC
    assert [v.created_at for v in votes[:4]] == [
        dt.datetime(2023, 11, 14, 22, 13, 20, 847000, tzinfo=utc),
        dt.datetime(2024, 5, 1, 12, 30, tzinfo=utc),
        dt.datetime(2024, 5, 1, 12, 30, 0, 250000, tzinfo=utc),
        dt.datetime(2024, 5, 1, tzinfo=utc),
    ]
    assert abs(votes[4].created_at - dt.datetime.now(utc)) < dt.timedelta(minutes=1)
    assert [v.prompt_id for v in votes] == [prompts[0].id, prompts[1].id, None, None, prompts[2].id]


def test_import_votes_option_wins_over_the_competition_column(db, tmp_path):
    rows = [("sdxl", "sana", "model_a", "no-such-competition")]
    path = write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "competition"))

    assert import_dump(db, path, competition=FANTASY).competitions == (FANTASY,)
