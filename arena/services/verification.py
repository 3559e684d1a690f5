"""`arena verify`: replay the vote log in order and compare with every stored Elo and record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Category, Competition, Model, Rating, Scope, Vote
from arena.ratings.elo import Record, Replay
from arena.services.counting import counted_votes
from arena.services.scopes import OVERALL, scope_key

#: Elo values are recomputed with the same float operations in the same order, so they agree
#: exactly; the tolerance only absorbs a database's decimal round trip.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Mismatch:
    scope: str
    model: str
    field: str
    stored: float
    replayed: float

    def __str__(self) -> str:
        return (
            f"{self.scope} {self.model}: {self.field} stored {self.stored:g}, "
            f"replayed {self.replayed:g}"
        )


def replay_log(session: Session, k: float) -> tuple[Replay, int]:
    """Replay every counted vote in id order into per-scope Elo and records.

    Returns:
        The replay, keyed by (scope key, model slug), and the number of votes replayed.
    """
    competitions = {
        cid: (slug, category)
        for cid, slug, category in session.execute(
            select(Competition.id, Competition.slug, Category.slug).join(Category)
        )
    }
    slugs = dict(session.execute(select(Model.id, Model.slug)).all())
    replay = Replay(k=k)
    count = 0
    votes = session.execute(
        select(Vote.competition_id, Vote.model_a_id, Vote.model_b_id, Vote.winner)
        .where(counted_votes())
        .order_by(Vote.id)
        .execution_options(yield_per=10_000)
    )
    for competition_id, a, b, winner in votes:
        competition, category = competitions[competition_id]
        scopes = (scope_key("competition", competition), scope_key("category", category), OVERALL)
        replay.apply(scopes, slugs[a], slugs[b], winner)
        count += 1
    return replay, count


def verify(session: Session, k: float) -> tuple[list[Mismatch], int]:
    """Compare the stored ratings with a replay of the vote log.

    Returns:
        Every mismatch (empty when all agree) and the number of votes replayed.
    """
    replay, count = replay_log(session, k)
    stored = session.execute(
        select(
            Scope.key,
            Model.slug,
            Rating.elo,
            Rating.wins,
            Rating.losses,
            Rating.ties,
            Rating.battles,
        )
        .join(Scope, Scope.id == Rating.scope_id)
        .join(Model, Model.id == Rating.model_id)
    ).all()
    mismatches: list[Mismatch] = []
    seen = set()
    for key, model, elo_, wins, losses, ties, battles in stored:
        seen.add((key, model))
        expected = replay.records.get((key, model), Record())
        for field, got, want in (
            ("elo", elo_, expected.elo),
            ("wins", wins, expected.wins),
            ("losses", losses, expected.losses),
            ("ties", ties, expected.ties),
            ("battles", battles, expected.battles),
        ):
            if abs(got - want) > TOLERANCE:
                mismatches.append(Mismatch(key, model, field, got, want))
    for (key, model), record in replay.records.items():
        if (key, model) not in seen:
            mismatches.append(Mismatch(key, model, "battles", 0, record.battles))
    return mismatches, count
