"""Recording a best-of-four vote: the battle claimed once, its four models' rating rows
locked, the vote appended as pairwise rows of the log (a pick: three wins over the other
three; a ranking: every pair), each applied to every scope as a two-image vote would be; then
the reveal of all four. The transaction and its rules are those of ``recording``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

from arena.db import Database, Prepared
from arena.errors import Gone, ValidationError, quoted
from arena.models import BattleEntry, Competition, Model, Output, utcnow
from arena.ratings.outcomes import ranking_outcomes, score_a
from arena.services.rating_rows import groups as rating_groups
from arena.services.voting import matchmaking
from arena.services.voting.battles import battle_view, token_hash
from arena.services.voting.recording import (
    _APPEND_VOTE,
    PageVote,
    SideResult,
    VoteRules,
    _claim,
    _ClaimedBattle,
    _judge,
    _labels,
)
from arena.services.voting.voters import VoterIdentity, voter_vote_count

entries_t = BattleEntry.__table__
outputs_t = Output.__table__
#: No anti-manipulation rule (the default of the service functions; the app passes its own).
NO_RULES = VoteRules()


@dataclass(frozen=True)
class GroupVoteResult:
    """The reveal after a best-of-four vote: every image's model (in the order shown) with
    its Elo before and after the vote's comparisons (competition, and every scope kind).

    ``best`` is the position picked (None for a ranking whose first tier holds several);
    ``ranking`` the tiers as given (a pick is ``[[best]]``); ``vote_ids`` the log's rows,
    one per pairwise comparison; ``counted`` and ``not_counted`` as in :class:`VoteResult`.
    """

    vote_ids: list[int]
    competition: str
    images: list[SideResult]
    ranking: list[list[int]]
    best: int | None
    counted: bool = True
    not_counted: str | None = None


def parse_ranking(best: Any = None, ranking: Any = None, size: int = 4) -> list[list[int]]:
    """The tiers of a best-of-four vote from the API's ``best`` or ``ranking``.

    Raises:
        ValidationError: neither or both given, or not a valid position or ranking.
    """
    if (best is None) == (ranking is None):
        raise ValidationError(
            f"give either best (the position 0-{size - 1} of the best image) or ranking "
            "(tiers of positions, best first, e.g. [[2], [0, 3], [1]])",
            field="best" if best is not None else "ranking",
        )
    if best is not None:
        if not isinstance(best, int) or isinstance(best, bool) or not 0 <= best < size:
            raise ValidationError(
                f"best must be a whole number from 0 to {size - 1}, got {quoted(best)}",
                field="best",
            )
        return [[best]]
    if not isinstance(ranking, list) or not all(isinstance(t, list) and t for t in ranking):
        raise ValidationError(
            "ranking must be a list of non-empty lists of positions, best first, "
            "e.g. [[2], [0, 3], [1]]",
            field="ranking",
        )
    tiers = [list(tier) for tier in ranking]
    try:
        ranking_outcomes(tiers, size)
    except ValueError as exc:
        raise ValidationError(f"ranking: {exc}", field="ranking") from exc
    listed = sorted(p for tier in tiers for p in tier)
    if listed != list(range(size)):
        missing = sorted(set(range(size)) - set(listed))
        raise ValidationError(
            f"ranking must place every image once (positions 0-{size - 1}); missing "
            f"{', '.join(map(str, missing))} (to pick only the best, send best instead)",
            field="ranking",
        )
    return tiers


class _GroupRecorded(NamedTuple):
    vote_ids: list[int]
    battle: _ClaimedBattle
    models: tuple[int, ...]
    changes: dict[str, rating_groups.GroupChange]
    not_counted: str | None


_ENTRIES = Prepared(
    select(entries_t.c.model_id, outputs_t.c.hidden)
    .join(outputs_t, outputs_t.c.id == entries_t.c.output_id)
    .where(entries_t.c.battle_id == bindparam("b"))
    .order_by(entries_t.c.position)
)


def record_ranking(
    db: Database,
    token: str,
    voter: VoterIdentity | None,
    tiers: list[list[int]],
    *,
    k: float,
    rules: VoteRules = NO_RULES,
    address_hash: str | None = None,
) -> GroupVoteResult:
    """Record a best-of-four vote (``tiers`` from :func:`parse_ranking`) on the battle behind
    ``token``, with the guarantees of :func:`record_vote` (one transaction, single use).

    The vote becomes pairwise rows of the log (``arena.ratings.outcomes.ranking_outcomes``:
    a pick is three wins over the others, a full ranking every pair), each applied to every
    scope's Elo and record in the order appended, as three or six two-image votes would be.

    Raises:
        ValidationError: the battle has two images (vote with ``winner``).
        The other errors of :func:`record_vote`.
    """
    recorded = db.retry_when_busy(
        lambda: _write_group(
            db, token_hash(token), voter, tiers, k=k, rules=rules, address=address_hash
        )
    )
    names = _labels(db, Model, recorded.models)
    slug = _labels(db, Competition, (recorded.battle.competition_id,))
    images = [
        SideResult(
            model_id=names[model_id].slug,
            model_name=names[model_id].name,
            elo_before=recorded.changes["competition"][i][0],
            elo_after=recorded.changes["competition"][i][1],
            scopes={kind: change[i] for kind, change in recorded.changes.items()},
        )
        for i, model_id in enumerate(recorded.models)
    ]
    return GroupVoteResult(
        vote_ids=recorded.vote_ids,
        competition=slug[recorded.battle.competition_id].slug,
        images=images,
        ranking=tiers,
        best=tiers[0][0] if len(tiers[0]) == 1 else None,
        counted=recorded.not_counted is None,
        not_counted=recorded.not_counted,
    )


def _write_group(
    db: Database,
    digest: str,
    voter: VoterIdentity | None,
    tiers: list[list[int]],
    *,
    k: float,
    rules: VoteRules,
    address: str | None,
) -> _GroupRecorded:
    """The best-of-four vote's transaction, in the lock order of :func:`_write`."""
    with db.write_transaction() as conn:
        now = utcnow()
        battle = _claim(conn, db, digest, voter, now)
        if battle.size == 2:
            raise ValidationError(
                "this battle has two images: vote with winner (left, right, tie or both_bad)",
                field="best",
            )
        entries = _ENTRIES.execute(conn, {"b": battle.id})
        if any(hidden for _, hidden in entries):
            raise Gone(
                "a moderator withdrew one of this battle's images; load a new battle",
                field="token",
            )
        models = tuple(model_id for model_id, _ in entries)
        outcomes = ranking_outcomes(tiers, len(models))
        ratings = rating_groups.lock_group(conn, battle.competition_id, models)
        response_ms, flag, not_counted = _judge(conn, db, battle, now, rules)
        if not_counted:
            changes = ratings.unchanged()
        else:
            changes = rating_groups.apply_group(
                conn, ratings, [(a, b, score_a(w)) for a, b, w in outcomes], k
            )
            matchmaking.count_comparisons(
                conn, db, battle.competition_id, [(models[a], models[b]) for a, b, _ in outcomes]
            )
        common = {
            "battle_id": battle.id,
            "competition_id": battle.competition_id,
            "prompt_id": battle.prompt_id,
            "voter_id": battle.voter_id,
            "response_ms": response_ms,
            "flag": flag,
            "source": "web",
            "created_at": db.timestamp(now),
            "address_hash": address,
        }
        vote_ids = [
            _APPEND_VOTE.execute(
                conn,
                {
                    **common,
                    "model_a_id": models[a],
                    "model_b_id": models[b],
                    "winner": winner,
                    "expected_a": ratings.expected(a, b),
                },
            )[0][0]
            for a, b, winner in outcomes
        ]
    return _GroupRecorded(vote_ids, battle, models, changes, not_counted)


def best_from_page(
    db: Database,
    token: str,
    voter: VoterIdentity | None,
    best: str,
    *,
    k: float,
    rules: VoteRules = NO_RULES,
    address_hash: str | None = None,
) -> PageVote:
    """The voting page's best-of-four pick (``best``: the form's position, "0" to "3"), with
    what the page needs to show the reveal.

    Raises:
        ValidationError: ``best`` is not a position.
        The errors of :func:`record_ranking`.
    """
    position = int(best) if best in ("0", "1", "2", "3") else best
    tiers = parse_ranking(best=position)
    result = record_ranking(db, token, voter, tiers, k=k, rules=rules, address_hash=address_hash)
    assert voter is not None  # record_ranking refuses a vote without its voter
    return PageVote(result, battle_view(db, token, voter), voter_vote_count(db, voter))
