"""Importing vote dumps: formats, all-or-nothing validation, Elo and records as if voted live."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from arena.errors import ValidationError
from arena.models import Competition, CompetitionModel, Model, Prompt, Rating, Scope, Vote
from arena.ratings.elo import Replay
from arena.services import imports, voting
from arena.services.scopes import scope_key
from arena.web.db import get_db

K = 32.0
FANTASY = "fantasy-warrior"
FANTASY_II = "fantasy-warrior-ii"  # 14 of the 27 models; kolors and sana are not entered
COLUMNS = ("model_a", "model_b", "winner")

# model_a, model_b, winner: slugs and names mixed, every winner value.
ROWS = [
    ("hidream-i1-fast", "flux-1-dev", "model_a"),
    ("HiDream I1 Fast", "sdxl", "model_a"),
    ("flux-1-dev", "Stable Diffusion XL", "model_b"),
    ("sdxl", "hidream-i1-fast", "tie"),
    ("hidream-i1-fast", "FLUX.1 [dev]", "tie (bothbad)"),
    ("kolors", "hidream-i1-fast", "model_b"),
    ("flux-1-dev", "kolors", "model_a"),
]


@pytest.fixture
def db(seeded):
    with seeded.app_context():
        yield get_db()


def _write_csv(path: Path, rows, columns=COLUMNS) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _records(rows, columns=COLUMNS) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _slug(db, name_or_slug: str) -> str:
    with db.session() as session:
        return session.scalar(
            select(Model.slug).where((Model.slug == name_or_slug) | (Model.name == name_or_slug))
        )


def _stored(db) -> dict[tuple[str, str], tuple]:
    """(scope key, model slug) -> (elo, wins, losses, ties, battles) for every rating row."""
    with db.session() as session:
        rows = session.execute(
            select(Scope.key, Model.slug, Rating.elo, Rating.wins, Rating.losses, Rating.ties)
            .join(Scope, Scope.id == Rating.scope_id)
            .join(Model, Model.id == Rating.model_id)
        ).all()
    return {(key, slug): tuple(rest) for key, slug, *rest in rows}


def _replayed(db, batches: list[tuple[str, list[tuple]]]) -> dict[tuple[str, str], tuple]:
    """What ``_stored`` should show after live votes of ``batches`` ((competition, rows))."""
    replay = Replay(k=K)
    with db.session() as session:
        categories = dict(
            session.execute(
                select(Competition.slug, Scope.key)
                .join(Scope, Scope.category_id == Competition.category_id)
                .where(Scope.kind == "category")
            ).all()
        )
    for competition, rows in batches:
        scopes = (scope_key("competition", competition), categories[competition], "overall")
        for a, b, winner, *_ in rows:
            replay.apply(scopes, _slug(db, a), _slug(db, b), winner)
    return {key: (r.elo, r.wins, r.losses, r.ties) for key, r in replay.records.items()}


def _assert_ratings_match(db, batches) -> None:
    stored = _stored(db)
    expected = _replayed(db, batches)
    for key, values in expected.items():
        assert stored[key] == values, key
    untouched = {key for key in stored if key not in expected}
    assert all(stored[key] == (1000.0, 0, 0, 0) for key in untouched)


def _vote_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Vote))


def _verify_passes(runner) -> None:
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output


def _import(db, path: Path, competition: str | None = FANTASY, **kwargs) -> imports.ImportReport:
    return imports.import_votes(
        db, imports.read_votes(path), competition=competition, k=K, **kwargs
    )


def test_import_votes_csv_gives_the_records_and_elo_of_live_votes(db, runner, tmp_path):
    report = _import(db, _write_csv(tmp_path / "votes.csv", ROWS))

    assert (report.rows, report.competitions) == (len(ROWS), (FANTASY,))
    _assert_ratings_match(db, [(FANTASY, ROWS)])
    stored = _stored(db)
    competition = scope_key("competition", FANTASY)
    # hidream-i1-fast: beat flux-1-dev and sdxl, tie with sdxl, bothbad with flux, beat kolors.
    assert stored[(competition, "hidream-i1-fast")][1:] == (3, 0, 2)
    assert stored[(competition, "flux-1-dev")][1:] == (1, 2, 1)
    assert stored[(competition, "sdxl")][1:] == (1, 1, 1)
    assert stored[(competition, "kolors")][1:] == (0, 2, 0)
    _verify_passes(runner)


def test_import_votes_appends_votes_in_file_order_as_imports(db, tmp_path):
    _import(db, _write_csv(tmp_path / "votes.csv", ROWS))

    with db.session() as session:
        votes = session.scalars(select(Vote).order_by(Vote.id)).all()
        competition_id = session.scalar(select(Competition.id).where(Competition.slug == FANTASY))
        slugs = dict(session.execute(select(Model.id, Model.slug)).all())
    assert [(slugs[v.model_a_id], slugs[v.model_b_id], v.winner) for v in votes] == [
        (_slug(db, a), _slug(db, b), winner) for a, b, winner in ROWS
    ]
    assert {(v.source, v.battle_id, v.voter_id, v.prompt_id) for v in votes} == {
        ("import", None, None, None)
    }
    assert {v.competition_id for v in votes} == {competition_id}
    # No timestamps in the file: created now.
    assert all(abs(v.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1) for v in votes)


def test_import_votes_counts_bothbad_as_a_tie_and_keeps_the_winner(db, tmp_path):
    _import(db, _write_csv(tmp_path / "votes.csv", [("sana", "kolors", "tie (bothbad)")]))

    with db.session() as session:
        assert session.scalars(select(Vote.winner)).all() == ["tie (bothbad)"]
    stored = _stored(db)
    for scope in (scope_key("competition", FANTASY), "category:portrait", "overall"):
        assert stored[(scope, "sana")] == (1000.0, 0, 0, 1)
        assert stored[(scope, "kolors")] == (1000.0, 0, 0, 1)


def test_import_votes_json_continues_from_the_stored_ratings(db, runner, tmp_path):
    first, second = ROWS[:4], ROWS[4:] + ROWS[:2]
    (tmp_path / "first.json").write_text(json.dumps({"battles": _records(first)}))
    (tmp_path / "second.json").write_text(json.dumps(_records(second)))

    _import(db, tmp_path / "first.json")
    _assert_ratings_match(db, [(FANTASY, first)])
    _import(db, tmp_path / "second.json")

    _assert_ratings_match(db, [(FANTASY, first + second)])
    assert _vote_count(db) == len(first) + len(second)
    _verify_passes(runner)


def test_read_votes_reads_jsonl_and_sniffs_files_without_extension(tmp_path):
    records = _records(ROWS)
    expected = pd.DataFrame(records)
    jsonl = tmp_path / "votes.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (tmp_path / "votes-json").write_text(json.dumps({"votes": records}))
    (tmp_path / "votes-jsonl").write_text(jsonl.read_text())
    _write_csv(tmp_path / "votes-csv", ROWS)

    for name in ("votes.jsonl", "votes-json", "votes-jsonl", "votes-csv"):
        frame = imports.read_votes(tmp_path / name)
        pd.testing.assert_frame_equal(frame.astype(object), expected.astype(object), name)


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
    path = _write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp", "prompt"))
    _import(db, path)

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


def test_import_votes_json_unix_seconds_and_competition_column(db, runner, tmp_path):
    rows = [
        ("sdxl", "flux-1-dev", "model_a", 1714566600.5, FANTASY),
        ("sdxl", "flux-1-dev", "model_b", 1714566601, FANTASY_II),
        ("flux-1-dev", "sdxl", "tie", None, FANTASY_II),
        ("kolors", "sdxl", "model_a", 1714566603, FANTASY),
        ("sdxl", "flux-1-dev", "model_b", 1714566604, FANTASY),
    ]
    columns = (*COLUMNS, "timestamp", "competition")
    (tmp_path / "votes.json").write_text(json.dumps(_records(rows, columns)))

    report = _import(db, tmp_path / "votes.json", competition=None)

    assert report.competitions == (FANTASY, FANTASY_II)
    stored = _stored(db)
    # The category pools both competitions' votes, in file order.
    replay = Replay(k=K)
    for a, b, winner, _, _ in rows:
        replay.apply(["category:portrait"], _slug(db, a), _slug(db, b), winner)
    assert stored[("category:portrait", "sdxl")] == (
        replay.records[("category:portrait", "sdxl")].elo,
        1,
        3,
        1,
    )
    assert stored[(scope_key("competition", FANTASY_II), "sdxl")][1:] == (0, 1, 1)
    with db.session() as session:
        first = session.scalar(select(Vote.created_at).order_by(Vote.id))
    assert first == dt.datetime(2024, 5, 1, 12, 30, 0, 500000, tzinfo=dt.UTC)
    _verify_passes(runner)


def test_import_votes_option_wins_over_the_competition_column(db, tmp_path):
    rows = [("sdxl", "sana", "model_a", "no-such-competition")]
    path = _write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "competition"))

    assert _import(db, path, competition=FANTASY).competitions == (FANTASY,)


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
    path = _write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp"))
    before = _stored(db)

    with pytest.raises(ValidationError) as caught:
        _import(db, path, competition=FANTASY_II)

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
    assert _vote_count(db) == 0
    assert _stored(db) == before


def test_validate_votes_shows_the_first_rows_and_the_most_frequent_values(db, tmp_path):
    rows = [("sdxl", f"unknown-{i % 12}", "model_a") for i in range(40)]
    with pytest.raises(ValidationError) as caught:
        _import(db, _write_csv(tmp_path / "votes.csv", rows))

    message = caught.value.message
    assert "'unknown-0' (4 rows)" in message and "and 2 more" in message
    assert message.endswith("rows 1, 2, 3, 4, 5, …")


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
        _import(db, path, competition=competition)
    assert _vote_count(db) == 0


def test_import_votes_creates_missing_rating_rows_of_newly_entered_models(db, runner, tmp_path):
    with db.session() as session:
        competition_id = session.scalar(
            select(Competition.id).where(Competition.slug == FANTASY_II)
        )
        kolors = session.scalar(select(Model.id).where(Model.slug == "kolors"))
        session.execute(
            insert(CompetitionModel).values(competition_id=competition_id, model_id=kolors)
        )
        session.commit()
    rows = [("kolors", "sdxl", "model_a"), ("sdxl", "kolors", "tie")]

    _import(db, _write_csv(tmp_path / "votes.csv", rows), competition=FANTASY_II)

    assert _stored(db)[(scope_key("competition", FANTASY_II), "kolors")][1:] == (1, 0, 1)
    _verify_passes(runner)


def test_import_votes_reports_progress_for_every_row(db, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    calls: list[int] = []

    _import(db, _write_csv(tmp_path / "votes.csv", ROWS), progress=calls.append)

    assert calls == [3, 3, 1]


def test_import_votes_twenty_thousand_rows(db, runner, tmp_path):
    with db.session() as session:
        slugs = session.scalars(select(Model.slug).order_by(Model.slug)).all()
    rng = random.Random(5)
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    rows = [(*rng.sample(slugs, 2), rng.choice(winners), 1.7e9 + i) for i in range(20_000)]

    report = _import(db, _write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp")))

    assert report.rows == _vote_count(db) == 20_000
    stored = _stored(db)
    assert sum(v[1] + v[2] + v[3] for (key, _), v in stored.items() if key == "overall") == 40_000
    _verify_passes(runner)


def test_cli_import_votes_imports_and_refuses_bad_files(db, runner, tmp_path):
    good = _write_csv(tmp_path / "votes.csv", ROWS)
    bad = _write_csv(tmp_path / "bad.csv", [("sdxl", "nobody", "model_a")])

    result = runner.invoke(args=["import-votes", str(good), "--competition", FANTASY])
    assert result.exit_code == 0, result.output
    assert f"Imported {len(ROWS)} votes into {FANTASY} in " in result.output

    refused = runner.invoke(args=["import-votes", str(bad), "--competition", FANTASY])
    assert refused.exit_code == 1
    assert "unknown models (not a model slug or name): 'nobody' (1 row); row 1" in refused.output
    assert _vote_count(db) == len(ROWS)
    _verify_passes(runner)


def test_import_votes_alongside_live_votes_keeps_verify_passing(voting_app, tmp_path):
    """Live votes in fantasy-warrior-ii share the category and overall rating rows with an
    import into fantasy-warrior: whichever way they interleave, the log replays exactly."""
    voters, votes_each = 4, 15
    with voting_app.app_context():
        db = get_db()
        with db.session() as session:
            slugs = session.scalars(select(Model.slug).order_by(Model.slug)).all()
        rng = random.Random(9)
        rows = [
            (*rng.sample(slugs, 2), rng.choice(["model_a", "model_b", "tie"]))
            for _ in range(30_000)
        ]
        frame = imports.read_votes(_write_csv(tmp_path / "votes.csv", rows))
        people = [voting.ensure_voter(db, None) for _ in range(voters)]
        battles = [
            [voting.issue_battle(db, person, FANTASY_II, rng=rng).token for _ in range(votes_each)]
            for person in people
        ]
        start = threading.Barrier(voters + 1)

        def vote(i: int) -> int:
            start.wait()
            for token in battles[i]:
                voting.record_vote(db, token, people[i], rng.choice(["left", "right", "tie"]), k=K)
            return votes_each

        def run_import() -> int:
            start.wait()
            return imports.import_votes(db, frame, competition=FANTASY, k=K).rows

        with ThreadPoolExecutor(voters + 1) as pool:
            live = [pool.submit(vote, i) for i in range(voters)]
            imported = pool.submit(run_import)
            total = imported.result() + sum(f.result() for f in live)

        assert _vote_count(db) == total == len(rows) + voters * votes_each
    result = voting_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0, result.output
