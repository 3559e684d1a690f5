"""Exports: the leaderboard with the contract's columns, and the vote log with pseudonyms."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from arena.errors import ValidationError
from arena.models import Category, Competition, Model, Vote, Voter
from arena.services import dumps, exports
from arena.services.counting import counted_votes
from arena.services.imports.apply import import_votes
from arena.services.integrity import set_voter_flag
from arena.services.leaderboards import boards, publishing

CONTRACT_COLUMNS = [  # docs/contract.md, 3.6
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id",
]  # fmt: skip


def test_leaderboard_export_has_exactly_the_contract_columns(voted_session):
    publishing.publish_snapshots(voted_session, rounds=50, seed=2)
    board = boards.board(voted_session, "category:portrait")
    frame = boards.board_frame(board)
    assert list(frame.columns)[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    document = exports.leaderboard_document(board)
    assert document["scope"] == "category:portrait"
    assert document["snapshot_id"] == board.snapshot.id and document["computed_at"].endswith("Z")
    assert len(document["rows"]) == len(board.rows)
    parsed = pd.read_csv(io.StringIO(exports.frame_to_csv(frame)))
    assert list(parsed.columns) == boards.COLUMNS


def test_votes_export_is_the_log_with_pseudonymous_voters(voted_session, voted):
    frame = exports.votes_frame(voted_session, voted.config["SECRET_KEY"])
    assert list(frame.columns) == exports.VOTE_COLUMNS
    assert len(frame) == 80 and frame["vote_id"].is_monotonic_increasing
    public_id = voted_session.scalar(select(Voter.public_id))
    assert frame["voter"].nunique() == 1 and frame["voter"][0] != public_id
    assert set(frame["winner"]) <= {"model_a", "model_b", "tie"}
    document = json.loads(json.dumps(exports.votes_document(frame)))
    assert document["count"] == 80 and document["votes"][0]["category"] == "portrait"


# --- the streamed vote log ---------------------------------------------------------------------


def _old_votes_frame(session, secret: str) -> pd.DataFrame:
    """The export as it was built before it streamed (one query, one pandas frame): the
    reference the streamed rows must equal."""
    model_a, model_b = aliased(Model), aliased(Model)
    rows = session.execute(
        select(
            Vote.id,
            Vote.created_at,
            Competition.slug,
            Category.slug,
            Vote.prompt_id,
            model_a.slug,
            model_b.slug,
            Vote.winner,
            Voter.public_id,
        )
        .join(Competition, Competition.id == Vote.competition_id)
        .join(Category, Category.id == Competition.category_id)
        .join(model_a, model_a.id == Vote.model_a_id)
        .join(model_b, model_b.id == Vote.model_b_id)
        .outerjoin(Voter, Voter.id == Vote.voter_id)
        .where(counted_votes())
        .order_by(Vote.id)
    ).all()
    frame = pd.DataFrame(rows, columns=exports.VOTE_COLUMNS)
    # (The old code passed pandas' NaN for a missing voter here, and failed on imported votes.)
    frame["voter"] = [None if pd.isna(v) else exports.pseudonym(secret, v) for v in frame["voter"]]
    frame["created_at"] = [t.isoformat().replace("+00:00", "Z") for t in frame["created_at"]]
    frame["prompt_id"] = frame["prompt_id"].astype("Int64")
    return frame


@pytest.fixture
def mixed_log(voted, votes):
    """``voted``'s 80 votes, then 5 imported votes without voter or prompt, 6 by a voter
    flagged since and 2 cast too fast (neither counted), then 3 more: 88 counted of 96."""
    from arena.services.voting.recording import VoteRules

    db = get_db_of(voted)
    models = _competition_models(db, "fantasy-warrior-ii")
    winners = ["model_a", "tie", "model_b", "model_b", "model_a"]
    frame = pd.DataFrame({"model_a": models[:5], "model_b": models[1:6], "winner": winners})
    import_votes(db, frame, competition="fantasy-warrior-ii", k=32)
    cheat = votes.voter()
    votes.cast(6, voter=cheat, seed=11)
    votes.cast(2, rules=VoteRules(min_vote_ms=60_000), seed=12)
    set_voter_flag(db, cheat.public_id, flagged=True, reason="test", k=32)
    votes.cast(3, seed=13)
    return voted


def get_db_of(app):
    return app.extensions["arena.db"]


def _competition_models(db, slug: str) -> list[str]:
    from arena.models import CompetitionModel

    with db.session() as session:
        return list(
            session.scalars(
                select(Model.slug)
                .join(CompetitionModel, CompetitionModel.model_id == Model.id)
                .join(Competition, Competition.id == CompetitionModel.competition_id)
                .where(Competition.slug == slug)
                .order_by(Model.slug)
            )
        )


def _all_rows(db, secret: str, **kwargs) -> list[tuple]:
    return [row for rows in exports.vote_batches(db.session, secret, **kwargs) for row in rows]


@pytest.mark.parametrize("batch", [7, exports.BATCH])
def test_streamed_csv_and_json_are_the_frame_exports_of_before(mixed_log, batch):
    db, secret = get_db_of(mixed_log), "s3cret"
    with db.session() as session:
        reference = _old_votes_frame(session, secret)
        total = session.scalar(select(func.count()).select_from(Vote))
    assert len(reference) == 80 + 5 + 3 and total == len(reference) + 6 + 2
    assert reference["voter"].isna().sum() == 5 and reference["prompt_id"].isna().sum() == 5
    with db.session() as session:
        page = exports.plan_page(session)
    csv_text = "".join(
        exports.csv_chunks(exports.page_batches(db.session, secret, page, batch=batch))
    )
    assert csv_text == exports.frame_to_csv(reference)  # byte for byte
    document = json.loads(
        "".join(exports.json_chunks(exports.page_batches(db.session, secret, page, batch=batch)))
    )
    assert document == {**exports.votes_document(reference), "next_after": None}
    lines = exports.jsonl_text(_all_rows(db, secret, batch=batch)).splitlines()
    assert [json.loads(line) for line in lines] == document["votes"]


def test_an_empty_log_streams_a_header_and_an_empty_document(app):
    db = get_db_of(app)
    with db.session() as session:
        page = exports.plan_page(session, limit=10)
    assert page == exports.Page(0, None, None)
    assert "".join(exports.csv_chunks(exports.page_batches(db.session, "s", page))) == (
        ",".join(exports.VOTE_COLUMNS) + "\n"
    )
    document = json.loads("".join(exports.json_chunks(exports.page_batches(db.session, "s", page))))
    assert document == {"votes": [], "count": 0, "next_after": None}


@pytest.mark.parametrize("limit", [1, 13, 88])
def test_pages_resume_without_gaps_or_duplicates_while_votes_arrive(mixed_log, votes, limit):
    db, secret = get_db_of(mixed_log), "s"
    before = _all_rows(db, secret)
    seen, after, pages = [], 0, 0
    while True:
        with db.session() as session:
            page = exports.plan_page(session, after=after, limit=limit)
        rows = [
            row for rows in exports.page_batches(db.session, secret, page, batch=5) for row in rows
        ]
        assert len(rows) <= limit
        seen += rows
        pages += 1
        if pages == 2:  # votes cast between pages come at the end
            votes.cast(4, seed=21)
        if page.next_after is None:
            break
        assert rows[-1][0] == page.next_after and len(rows) == limit
        after = page.next_after
    ids = [row[0] for row in seen]
    assert ids == sorted(set(ids))  # in order, no duplicate
    assert seen[: len(before)] == before  # nothing skipped
    assert seen == _all_rows(db, secret)  # the votes cast meanwhile as well


def test_a_page_is_a_fixed_id_range_so_votes_cast_while_it_streams_wait(mixed_log, votes):
    db = get_db_of(mixed_log)
    with db.session() as session:
        whole = exports.plan_page(session)
        first = exports.plan_page(session, limit=10)
    votes.cast(3, seed=31)
    streamed = [r for rows in exports.page_batches(db.session, "s", whole, batch=7) for r in rows]
    assert streamed[-1][0] == whole.upto and len(streamed) == 88
    rows = [r for rows in exports.page_batches(db.session, "s", first) for r in rows]
    assert len(rows) == 10 and rows[-1][0] == first.next_after == first.upto


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0", 0), ("17", 17), ("100000", 100000), ("100001", None), ("-1", None), ("1.5", None),
     ("", None), (" 1", None), ("1e3", None), ("\u0663", None), ("\u00b2", None),
     ("9" * 30, None)],
)  # fmt: skip
def test_whole_number_parameters_are_checked(value, ok):
    if ok is None:
        with pytest.raises(ValidationError) as caught:
            exports.check_count(value, "limit", low=0, high=100_000)
        assert caught.value.field == "limit"
    else:
        assert exports.check_count(value, "limit", low=0, high=100_000) == ok


# --- the static dump ---------------------------------------------------------------------------


def _gunzip(path) -> str:
    return gzip.decompress(path.read_bytes()).decode()


def test_dump_files_decompress_to_the_export_and_replace_atomically(mixed_log, tmp_path):
    db, secret, folder = get_db_of(mixed_log), "s", tmp_path / "dumps"
    with db.session() as session:
        publishing.publish_snapshots(session, rounds=20, seed=1)
    assert dumps.read_manifest(folder) is None
    dump = dumps.write_dump(db, folder, secret, batch=9)
    with db.session() as session:
        reference = _old_votes_frame(session, secret)
    assert dump.votes == len(reference) and dump.last_vote_id == int(reference["vote_id"].max())
    assert _gunzip(folder / "votes.csv.gz") == exports.frame_to_csv(reference)
    lines = _gunzip(folder / "votes.jsonl.gz").splitlines()
    assert [json.loads(line) for line in lines] == exports.votes_document(reference)["votes"]
    boards_jsonl = [
        json.loads(line) for line in _gunzip(folder / "leaderboards.jsonl.gz").splitlines()
    ]
    with db.session() as session:
        keys = [scope.key for scope in boards.scope_menu(session)]
        expected = [
            json.loads(json.dumps(exports.leaderboard_document(boards.board(session, k))))
            for k in keys
        ]
    assert [b["scope"] for b in boards_jsonl] == keys and boards_jsonl == expected
    assert boards_jsonl[0]["scope"] == "overall" and boards_jsonl[0]["snapshot_id"] is not None
    board_csv = pd.read_csv(io.StringIO(_gunzip(folder / "leaderboards.csv.gz")))
    assert list(board_csv.columns) == dumps.BOARD_COLUMNS
    assert len(board_csv) == sum(len(b["rows"]) for b in boards_jsonl)
    manifest = dumps.read_manifest(folder)
    assert manifest == json.loads(json.dumps(dump.to_json()))
    for item in manifest["files"]:
        data = (folder / item["name"]).read_bytes()
        assert len(data) == item["bytes"] and hashlib.sha256(data).hexdigest() == item["sha256"]
    # Replaced whole by a rename: a reader that opened the old file reads the old file.
    first = (folder / "votes.csv.gz").read_bytes()
    with open(folder / "votes.csv.gz", "rb") as old:
        dumps.write_dump(db, folder, "another secret")  # other pseudonyms: other bytes
        assert old.read() == first != (folder / "votes.csv.gz").read_bytes()
    again = dumps.write_dump(db, folder, secret)
    assert again.files[0].sha256 == dump.files[0].sha256  # the same rows, the same bytes
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*dumps.FILES, "manifest.json", ".lock"]
    )


def test_a_failed_dump_replaces_nothing_and_leaves_no_temporary_file(mixed_log, tmp_path):
    db, folder = get_db_of(mixed_log), tmp_path / "dumps"
    first = dumps.write_dump(db, folder, "s")
    before = {name: (folder / name).read_bytes() for name in dumps.FILES}

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dumps.write_dump(db, folder, "other secret", batch=10, progress=interrupt)
    assert {name: (folder / name).read_bytes() for name in dumps.FILES} == before
    assert dumps.read_manifest(folder)["written_at"] == first.written_at
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_one_dump_at_a_time_and_refresh_only_when_due(mixed_log, tmp_path):
    db, folder = get_db_of(mixed_log), tmp_path / "dumps"
    assert dumps.refresh_if_due(db, folder, "s", max_age=3600) is not None  # none yet: due
    assert dumps.refresh_if_due(db, folder, "s", max_age=3600) is None  # fresh
    assert dumps.refresh_if_due(db, folder, "s", max_age=0) is not None
    with open(folder / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(dumps.DumpBusy):
            dumps.write_dump(db, folder, "s")
        assert dumps.refresh_if_due(db, folder, "s", max_age=0) is None


def test_the_publisher_hook_dumps_when_due_and_never_raises(mixed_log, tmp_path, caplog):
    db, media = get_db_of(mixed_log), tmp_path / "media"
    hook = dumps.publisher_hook(db, media, "s", every=3600)
    hook()
    written = dumps.read_manifest(dumps.dump_folder(media))
    assert written is not None and written["votes"] == 88
    hook()  # an hour has not passed: the same dump
    assert dumps.read_manifest(dumps.dump_folder(media)) == written
    (tmp_path / "file").write_text("")
    broken = dumps.publisher_hook(db, tmp_path / "file", "s", every=0)  # not a folder
    broken()
    assert "writing the static dump" in caplog.text
