"""Recording a vote: claim the battle, move its live ratings, append the vote, in one
transaction; then the reveal.

This is the hottest path of the product, so it uses SQLAlchemy Core on a pooled connection
with few round trips: five statements (claim the battle, lock and read the six rating rows,
count the vote on the voter's row and read their flag, update the ratings, append the vote).
The vote row is appended *after* the rating rows are locked and updated (see
``arena.services.rating_rows`` for the lock order), so replaying the log in id order applies
conflicting votes in the order they were applied here, which is what ``arena verify`` checks.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, case, insert, select, update

from arena.db import Database, Prepared
from arena.errors import Conflict, Forbidden, Gone, NotFound, ValidationError, quoted
from arena.models import Battle, Competition, Model, Output, Vote, Voter, utcnow
from arena.ratings.outcomes import CHOICES, score_a
from arena.services import rating_rows
from arena.services.voting import matchmaking
from arena.services.voting.battles import IssuedBattle, battle_view, token_hash
from arena.services.voting.voters import VoterIdentity, VoterUnverified, voter_vote_count

battles_t = Battle.__table__
votes_t = Vote.__table__
voters_t = Voter.__table__
outputs_t = Output.__table__


@dataclass(frozen=True)
class SideResult:
    """One side's model in the reveal, with its Elo before and after in the competition
    (``elo_before``/``elo_after``) and in every scope kind (``scopes``)."""

    model_id: str
    model_name: str
    elo_before: float
    elo_after: float
    scopes: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class VoteResult:
    """The reveal after a vote: each side's model and its Elo before and after (competition).

    ``counted`` is False when the vote was kept in the log but left out of the ratings;
    ``not_counted`` then says why: ``fast``, ``daily_cap`` or ``voter_flagged``.
    """

    vote_id: int
    winner: str
    competition: str
    left: SideResult
    right: SideResult
    counted: bool = True
    not_counted: str | None = None


@dataclass(frozen=True)
class VoteRules:
    """The anti-manipulation rules a vote is checked against (0 switches a rule off).

    ``min_vote_ms``: a vote cast sooner after its battle was issued is kept, flagged ``fast``,
    and not counted. ``daily_cap``: a voter's votes beyond this many since midnight UTC are
    kept, flagged ``daily_cap``, and not counted. ``require_verified``: a vote from a voter
    who has not proved the new-voter work is refused (:class:`VoterUnverified`).
    """

    min_vote_ms: int = 0
    daily_cap: int = 0
    require_verified: bool = False

    @classmethod
    def from_config(cls, config: Any) -> VoteRules:
        """The rules from the app's settings (``MIN_VOTE_MS``, ``DAILY_VOTE_CAP``, ``POW``)."""
        return cls(
            min_vote_ms=config["MIN_VOTE_MS"],
            daily_cap=config["DAILY_VOTE_CAP"],
            require_verified=config["POW"],
        )


_CLAIM = Prepared(
    update(battles_t)
    .where(
        battles_t.c.token_hash == bindparam("th"),
        battles_t.c.voted_at.is_(None),
        # A battle whose output a moderator hid after it was issued takes no vote.
        ~select(outputs_t.c.id)
        .where(
            outputs_t.c.id.in_([battles_t.c.left_output_id, battles_t.c.right_output_id]),
            outputs_t.c.hidden.is_(True),
        )
        .exists(),
    )
    .values(voted_at=bindparam("now"))
    .returning(
        battles_t.c.id,
        battles_t.c.voter_id,
        battles_t.c.competition_id,
        battles_t.c.prompt_id,
        battles_t.c.left_model_id,
        battles_t.c.right_model_id,
        battles_t.c.created_at,
        battles_t.c.expires_at,
        battles_t.c.size,
    )
)


class _ClaimedBattle(NamedTuple):
    """The columns ``_CLAIM`` returns, in order."""

    id: int
    voter_id: int
    competition_id: int
    prompt_id: int
    left_model_id: int
    right_model_id: int
    created_at: Any
    expires_at: Any
    size: int


# Run after the rating rows are locked: counts the vote on the voter's row (one row update,
# whatever the number of votes today) and reads the voter's flag and verification. Flagging
# takes the rating locks before it touches the voter row, so a vote in flight either sees the
# flag here or commits before the flagging's replay reads the log.
_COUNT_VOTER_VOTE = Prepared(
    update(voters_t)
    .where(voters_t.c.id == bindparam("v"))
    .values(
        votes_today=case(
            (voters_t.c.votes_day == bindparam("day"), voters_t.c.votes_today + 1), else_=1
        ),
        votes_day=bindparam("day"),
    )
    .returning(voters_t.c.flagged, voters_t.c.votes_today, voters_t.c.verified_at)
)

_VOTE_COLUMNS = (
    "battle_id",
    "competition_id",
    "prompt_id",
    "model_a_id",
    "model_b_id",
    "winner",
    "voter_id",
    "response_ms",
    "flag",
    "expected_a",
    "source",
    "created_at",
    "address_hash",
)
_APPEND_VOTE = Prepared(
    insert(votes_t)
    .values({name: bindparam(name) for name in _VOTE_COLUMNS})
    .returning(votes_t.c.id)
)


#: What an unverified voter is told (the voting page does this by itself, unseen).
UNVERIFIED_MESSAGE = (
    "this voter is not verified yet: a new voter solves a small proof of work first — "
    "GET /api/v1/voters/challenge, solve it, POST the solution to /api/v1/voters/verify — "
    "or reload the voting page, which does it in the background"
)


class _Recorded(NamedTuple):
    """What the vote's transaction leaves for the reveal."""

    vote_id: int
    battle: _ClaimedBattle
    changes: dict[str, rating_rows.Change]
    not_counted: str | None


def record_vote(
    db: Database,
    token: str,
    voter: VoterIdentity | None,
    choice: str,
    *,
    k: float,
    rules: VoteRules = VoteRules(),
    address_hash: str | None = None,
) -> VoteResult:
    """Record one vote on the battle behind ``token`` and update every scope's Elo and record.

    One transaction: the battle is claimed (single use), the six rating rows (two models ×
    competition, category, overall) are locked and updated, and the vote is appended. A vote
    that breaks one of ``rules``, or comes from a flagged voter, is appended but leaves the
    ratings as they were (see :class:`VoteResult`). ``address_hash`` (the client address's
    keyed hash, see ``voters.address_hashes``) is stored on the vote.

    Raises:
        ValidationError: ``choice`` is not left, right, tie or both_bad.
        NotFound: no battle has this token.
        Conflict: the battle already has its vote.
        Forbidden: the battle was issued to another voter (or the voter has no cookie).
        Gone: the battle expired, or a moderator hid one of its outputs since it was issued.
        VoterUnverified: ``rules.require_verified`` and the voter has not proved the work.
    """
    winner = CHOICES.get(choice) if isinstance(choice, str) else None
    if winner is None:
        raise ValidationError(
            f"winner must be one of {', '.join(CHOICES)}, got {quoted(choice)}", field="winner"
        )
    recorded = db.retry_when_busy(
        lambda: _write(db, token_hash(token), voter, winner, k=k, rules=rules, address=address_hash)
    )
    return _reveal(db, recorded, choice)


def _write(
    db: Database,
    digest: str,
    voter: VoterIdentity | None,
    winner: str,
    *,
    k: float,
    rules: VoteRules,
    address: str | None,
) -> _Recorded:
    """The vote's transaction, in the lock order: battle, rating rows, voter row, vote."""
    with db.write_transaction() as conn:
        now = utcnow()
        battle = _claim(conn, db, digest, voter, now)
        if battle.size != 2:
            raise ValidationError(
                "this is a best-of-four battle: vote with best (0-3) or a ranking, not winner",
                field="winner",
            )
        models = (battle.left_model_id, battle.right_model_id)
        ratings = rating_rows.lock_battle(conn, battle.competition_id, models)
        response_ms, flag, not_counted = _judge(conn, db, battle, now, rules)
        if not_counted:
            changes = ratings.unchanged()
        else:
            changes = rating_rows.apply_vote(conn, ratings, score_a(winner), k)
            # What matchmaking balances: comparisons counted, not battles issued.
            matchmaking.count_comparisons(conn, db, battle.competition_id, [models])
        vote_id = _APPEND_VOTE.execute(
            conn,
            {
                "battle_id": battle.id,
                "competition_id": battle.competition_id,
                "prompt_id": battle.prompt_id,
                "model_a_id": models[0],
                "model_b_id": models[1],
                "winner": winner,
                "voter_id": battle.voter_id,
                "response_ms": response_ms,
                "flag": flag,
                "expected_a": ratings.expected_a(),
                "source": "web",
                "created_at": db.timestamp(now),
                "address_hash": address,
            },
        )[0][0]
    return _Recorded(vote_id, battle, changes, not_counted)


def _claim(
    conn: Connection, db: Database, digest: str, voter: VoterIdentity | None, now: dt.datetime
) -> _ClaimedBattle:
    """Mark the battle voted (single use) and return it, or say why it takes no vote."""
    claimed = _CLAIM.execute(conn, {"th": digest, "now": db.timestamp(now)})
    if not claimed:
        used = conn.execute(
            select(battles_t.c.voted_at).where(battles_t.c.token_hash == digest)
        ).first()
        if used is None:
            raise NotFound("no battle has this token", field="token")
        if used.voted_at is None:
            raise Gone(
                "a moderator withdrew one of this battle's images; load a new battle",
                field="token",
            )
        raise Conflict("this battle already has its vote", field="token")
    battle = _ClaimedBattle(*claimed[0])
    if voter is None or battle.voter_id != voter.id:
        raise Forbidden("this battle was issued to another voter", field="token")
    if db.read_timestamp(battle.expires_at) <= now:
        raise Gone("this battle has expired; ask for a new one", field="token")
    return battle


def _judge(
    conn: Connection, db: Database, battle: _ClaimedBattle, now: dt.datetime, rules: VoteRules
) -> tuple[int, str | None, str | None]:
    """The vote's response time, the rule it breaks (its ``flag``) and why it is not counted
    (the flag, ``voter_flagged``, or None), after counting it on the voter's row."""
    response_ms = max(0, round((now - db.read_timestamp(battle.created_at)).total_seconds() * 1000))
    flag, voter_flagged = _count_voter_vote(conn, db, battle.voter_id, now, response_ms, rules)
    return response_ms, flag, flag or ("voter_flagged" if voter_flagged else None)


def _count_voter_vote(
    conn: Connection,
    db: Database,
    voter_id: int,
    now: dt.datetime,
    response_ms: int,
    rules: VoteRules,
) -> tuple[str | None, bool]:
    """Count the vote on the voter's row; the rule it breaks (``fast``, ``daily_cap`` or
    None) and whether the voter is flagged.

    Raises:
        VoterUnverified: the rules require a verified voter and this one is not (the whole
            transaction, battle claim included, is rolled back).
    """
    day = now.date()
    flagged, today, verified_at = _COUNT_VOTER_VOTE.execute(
        conn, {"v": voter_id, "day": day.isoformat() if db.is_sqlite else day}
    )[0]
    if rules.require_verified and verified_at is None:
        raise VoterUnverified(UNVERIFIED_MESSAGE, field="voter")
    if rules.min_vote_ms and response_ms < rules.min_vote_ms:
        return "fast", bool(flagged)
    if rules.daily_cap and today > rules.daily_cap:
        return "daily_cap", bool(flagged)
    return None, bool(flagged)


def _reveal(db: Database, recorded: _Recorded, choice: str) -> VoteResult:
    battle = recorded.battle
    names = _labels(db, Model, (battle.left_model_id, battle.right_model_id))
    slug = _labels(db, Competition, (battle.competition_id,))[battle.competition_id].slug

    def side(index: int, model_id: int) -> SideResult:
        before, after = recorded.changes["competition"][index]
        return SideResult(
            model_id=names[model_id].slug,
            model_name=names[model_id].name,
            elo_before=before,
            elo_after=after,
            scopes={kind: change[index] for kind, change in recorded.changes.items()},
        )

    return VoteResult(
        vote_id=recorded.vote_id,
        winner=choice,
        competition=slug,
        left=side(0, battle.left_model_id),
        right=side(1, battle.right_model_id),
        counted=recorded.not_counted is None,
        not_counted=recorded.not_counted,
    )


_LABEL_TTL_S = 60.0


def _labels(db: Database, table: type[Model] | type[Competition], ids: tuple[int, ...]) -> dict:
    """Slug and name of models or competitions by id, cached per process for a minute.

    They are shown after every vote but change rarely; the cache keeps two queries off the
    vote path. A miss reloads every row of the table (there are few).
    """
    cache = db.cache.setdefault(table.__tablename__, {"at": 0.0, "rows": {}})
    if time.monotonic() - cache["at"] > _LABEL_TTL_S or not all(i in cache["rows"] for i in ids):
        with db.engine.connect() as conn:
            rows = conn.execute(select(table.id, table.slug, table.name)).all()
        cache["rows"] = {row.id: row for row in rows}
        cache["at"] = time.monotonic()
    return cache["rows"]


@dataclass(frozen=True)
class PageVote:
    """What the voting page shows after a vote: the reveal, the battle it was on, and the
    voter's vote count."""

    result: Any  # VoteResult, or ranking.GroupVoteResult for best of four
    battle: IssuedBattle
    votes: int


def vote_from_page(
    db: Database,
    token: str,
    voter: VoterIdentity | None,
    choice: str,
    *,
    k: float,
    rules: VoteRules = VoteRules(),
    address_hash: str | None = None,
) -> PageVote:
    """``record_vote``, plus what the voting page needs to show the reveal.

    Raises:
        The errors of :func:`record_vote`.
    """
    result = record_vote(db, token, voter, choice, k=k, rules=rules, address_hash=address_hash)
    assert voter is not None  # record_vote refuses a vote without its voter
    return PageVote(result, battle_view(db, token, voter), voter_vote_count(db, voter))
