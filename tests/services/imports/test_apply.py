"""Applying vote dumps: Elo and records as if voted live, in file order, beside live votes."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import insert, select

from arena.models import Competition, CompetitionModel, Model, Vote
from arena.ratings.elo import Replay
from arena.services.imports import apply as imports_apply
from arena.services.imports.read import read_votes
from arena.services.scopes import scope_key
from arena.services.voting.battles import issue_battle
from arena.services.voting.recording import record_vote
from arena.services.voting.voters import ensure_voter
from arena.web.db import get_db
from tests.services.imports.dumps import (
    COLUMNS,
    FANTASY,
    FANTASY_II,
    ROWS,
    K,
    as_records,
    assert_ratings_match,
    import_dump,
    slug,
    stored_ratings,
    verify_passes,
    vote_count,
    write_csv,
)


def test_import_votes_csv_gives_the_records_and_elo_of_live_votes(db, runner, tmp_path):
    report = import_dump(db, write_csv(tmp_path / "votes.csv", ROWS))

    assert (report.rows, report.competitions) == (len(ROWS), (FANTASY,))
    assert_ratings_match(db, [(FANTASY, ROWS)])
    stored = stored_ratings(db)
    competition = scope_key("competition", FANTASY)
    # hidream-i1-fast: beat flux-1-dev and sdxl, tie with sdxl, bothbad with flux, beat kolors.
    assert stored[(competition, "hidream-i1-fast")][1:] == (3, 0, 2)
    assert stored[(competition, "flux-1-dev")][1:] == (1, 2, 1)
    assert stored[(competition, "sdxl")][1:] == (1, 1, 1)
    assert stored[(competition, "kolors")][1:] == (0, 2, 0)
    verify_passes(runner)


def test_import_votes_appends_votes_in_file_order_as_imports(db, tmp_path):
    import_dump(db, write_csv(tmp_path / "votes.csv", ROWS))

    with db.session() as session:
        votes = session.scalars(select(Vote).order_by(Vote.id)).all()
        competition_id = session.scalar(select(Competition.id).where(Competition.slug == FANTASY))
        slugs = dict(session.execute(select(Model.id, Model.slug)).all())
    assert [(slugs[v.model_a_id], slugs[v.model_b_id], v.winner) for v in votes] == [
        (slug(db, a), slug(db, b), winner) for a, b, winner in ROWS
    ]
    assert {(v.source, v.battle_id, v.voter_id, v.prompt_id) for v in votes} == {
        ("import", None, None, None)
    }
    assert {v.competition_id for v in votes} == {competition_id}
    # No timestamps in the file: created now.
    assert all(abs(v.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1) for v in votes)


def test_import_votes_counts_bothbad_as_a_tie_and_keeps_the_winner(db, tmp_path):
    import_dump(db, write_csv(tmp_path / "votes.csv", [("sana", "kolors", "tie (bothbad)")]))

    with db.session() as session:
        assert session.scalars(select(Vote.winner)).all() == ["tie (bothbad)"]
    stored = stored_ratings(db)
    for scope in (scope_key("competition", FANTASY), "category:portrait", "overall"):
        assert stored[(scope, "sana")] == (1000.0, 0, 0, 1)
        assert stored[(scope, "kolors")] == (1000.0, 0, 0, 1)


def test_import_votes_json_continues_from_the_stored_ratings(db, runner, tmp_path):
    first, second = ROWS[:4], ROWS[4:] + ROWS[:2]
    (tmp_path / "first.json").write_text(json.dumps({"battles": as_records(first)}))
    (tmp_path / "second.json").write_text(json.dumps(as_records(second)))

    import_dump(db, tmp_path / "first.json")
    assert_ratings_match(db, [(FANTASY, first)])
    import_dump(db, tmp_path / "second.json")

    assert_ratings_match(db, [(FANTASY, first + second)])
    assert vote_count(db) == len(first) + len(second)
    verify_passes(runner)


def test_import_votes_json_unix_seconds_and_competition_column(db, runner, tmp_path):
    rows = [
        ("sdxl", "flux-1-dev", "model_a", 1714566600.5, FANTASY),
        ("sdxl", "flux-1-dev", "model_b", 1714566601, FANTASY_II),
        ("flux-1-dev", "sdxl", "tie", None, FANTASY_II),
        ("kolors", "sdxl", "model_a", 1714566603, FANTASY),
        ("sdxl", "flux-1-dev", "model_b", 1714566604, FANTASY),
    ]
    columns = (*COLUMNS, "timestamp", "competition")
    (tmp_path / "votes.json").write_text(json.dumps(as_records(rows, columns)))

    report = import_dump(db, tmp_path / "votes.json", competition=None)

    assert report.competitions == (FANTASY, FANTASY_II)
    stored = stored_ratings(db)
    # The category pools both competitions' votes, in file order.
    replay = Replay(k=K)
    for a, b, winner, _, _ in rows:
        replay.apply(["category:portrait"], slug(db, a), slug(db, b), winner)
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
    verify_passes(runner)


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

    import_dump(db, write_csv(tmp_path / "votes.csv", rows), competition=FANTASY_II)

    assert stored_ratings(db)[(scope_key("competition", FANTASY_II), "kolors")][1:] == (1, 0, 1)
    verify_passes(runner)


def test_import_votes_reports_progress_for_every_row(db, tmp_path, monkeypatch):
    monkeypatch.setattr(imports_apply, "CHUNK_ROWS", 3)
    calls: list[int] = []

    import_dump(db, write_csv(tmp_path / "votes.csv", ROWS), progress=calls.append)

    assert calls == [3, 3, 1]


def test_import_votes_twenty_thousand_rows(db, runner, tmp_path):
    with db.session() as session:
        slugs = session.scalars(select(Model.slug).order_by(Model.slug)).all()
    rng = random.Random(5)
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    rows = [(*rng.sample(slugs, 2), rng.choice(winners), 1.7e9 + i) for i in range(20_000)]

    report = import_dump(db, write_csv(tmp_path / "votes.csv", rows, (*COLUMNS, "tstamp")))

    assert report.rows == vote_count(db) == 20_000
    stored = stored_ratings(db)
    assert sum(v[1] + v[2] + v[3] for (key, _), v in stored.items() if key == "overall") == 40_000
    verify_passes(runner)


def test_cli_import_votes_imports_and_refuses_bad_files(db, runner, tmp_path):
    good = write_csv(tmp_path / "votes.csv", ROWS)
    bad = write_csv(tmp_path / "bad.csv", [("sdxl", "nobody", "model_a")])

    result = runner.invoke(args=["import-votes", str(good), "--competition", FANTASY])
    assert result.exit_code == 0, result.output
    assert f"Imported {len(ROWS)} votes into {FANTASY} in " in result.output

    refused = runner.invoke(args=["import-votes", str(bad), "--competition", FANTASY])
    assert refused.exit_code == 1
    assert "unknown models (not a model slug or name): 'nobody' (1 row); row 1" in refused.output
    assert vote_count(db) == len(ROWS)
    verify_passes(runner)


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
        frame = read_votes(write_csv(tmp_path / "votes.csv", rows))
        people = [ensure_voter(db, None) for _ in range(voters)]
        battles = [
            [issue_battle(db, person, FANTASY_II, rng=rng).token for _ in range(votes_each)]
            for person in people
        ]
        start = threading.Barrier(voters + 1)

        def vote(i: int) -> int:
            start.wait()
            for token in battles[i]:
                record_vote(db, token, people[i], rng.choice(["left", "right", "tie"]), k=K)
            return votes_each

        def run_import() -> int:
            start.wait()
            return imports_apply.import_votes(db, frame, competition=FANTASY, k=K).rows

        with ThreadPoolExecutor(voters + 1) as pool:
            live = [pool.submit(vote, i) for i in range(voters)]
            imported = pool.submit(run_import)
            total = imported.result() + sum(f.result() for f in live)

        assert vote_count(db) == total == len(rows) + voters * votes_each
    result = voting_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0, result.output
