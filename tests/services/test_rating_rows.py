"""The live rating rows: created when missing, moved by a vote, a batch or a rebuild, and always
equal to a replay of the counted log."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update

from arena.models import Competition, Model, Rating, Scope, Voter
from arena.ratings.elo import Replay
from arena.services import rating_rows
from arena.services.verification import verify
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"
K = 32.0


@pytest.fixture
def db(voting_app):
    with voting_app.app_context():
        yield get_db()


def _verified(db) -> int:
    with db.session() as session:
        mismatches, count = verify(session, K)
    assert mismatches == []
    return count


def test_a_vote_creates_the_rows_a_model_entered_after_seeding_lacks(db, votes, model_ratings):
    with db.session() as session:
        session.execute(delete(Rating))
        session.commit()
    result = votes.cast(choice="left")[0]
    for slug, after in ((result.left.model_id, 1016.0), (result.right.model_id, 984.0)):
        rows = model_ratings(slug)
        assert set(rows) == {"overall", "category:portrait", f"competition:{COMPETITION}"}
        assert {row[0] for row in rows.values()} == {after}
        assert all(row[4] == 1 for row in rows.values())
    assert _verified(db) == 1


def test_apply_outcomes_equals_the_same_votes_replayed_one_by_one(db, model_ratings):
    with db.session() as session:
        competition_id = session.scalar(
            select(Competition.id).where(Competition.slug == COMPETITION)
        )
        ids = dict(session.execute(select(Model.slug, Model.id)).all())
    slugs = ["hidream-i1-fast", "sdxl", "flux-1-dev"]
    votes = [(0, 1, 1.0), (1, 2, 0.5), (2, 0, 0.0), (0, 1, 1.0)]
    with db.write_transaction() as conn:
        rating_rows.apply_outcomes(
            conn,
            rating_rows.Outcomes(
                competition_ids=np.full(len(votes), competition_id),
                model_a=np.array([ids[slugs[a]] for a, _, _ in votes]),
                model_b=np.array([ids[slugs[b]] for _, b, _ in votes]),
                scores=np.array([s for _, _, s in votes]),
            ),
            K,
        )
    replay = Replay(k=K)
    winners = {1.0: "model_a", 0.5: "tie", 0.0: "model_b"}
    for a, b, score in votes:
        replay.apply(["overall"], slugs[a], slugs[b], winners[score])
    for slug in slugs:
        record = replay.records[("overall", slug)]
        expected = (record.elo, record.wins, record.losses, record.ties, record.battles)
        assert model_ratings(slug)["overall"] == expected


def test_rebuild_all_applies_the_change_then_replays_the_counted_log(db, votes):
    honest, bot = votes.voter(), votes.voter()
    votes.cast(10, voter=honest, seed=1)
    votes.cast(5, voter=bot, choice="left", seed=2)
    with db.write_transaction() as conn:
        replayed = rating_rows.rebuild_all(
            conn,
            K,
            lambda: conn.execute(update(Voter).where(Voter.id == bot.id).values(flagged=True)),
        )
    assert replayed == 10
    with db.session() as session:
        battles = session.scalar(
            select(func.sum(Rating.battles)).join(Scope).where(Scope.key == "overall")
        )
    assert battles == 2 * 10
    assert _verified(db) == 10
