"""Battles and votes: matchmaking, issuing anonymous battles, recording a vote in one transaction.

This is the hottest path of the product, so it uses SQLAlchemy Core on a pooled connection
with few round trips: recording a vote is five statements (claim the battle, lock and read
the six rating rows, count the vote on the voter's row and read their flag, update the
ratings, append the vote) in one transaction.

Ordering: the vote row is inserted *after* the rating rows are locked and updated. On
PostgreSQL the rows are locked in a fixed order (``ORDER BY scope_id, model_id ... FOR
UPDATE``), so a vote that shares a model with another waits for it to commit and then takes
a later id; on SQLite ``BEGIN IMMEDIATE`` serialises writers outright. Either way, replaying
the log in id order applies conflicting votes in the order they were applied here, which is
what ``arena verify`` checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.exc import OperationalError

from arena.db import Database, Prepared, storable
from arena.errors import (
    ArenaError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ValidationError,
    quoted,
)
from arena.models import (
    Battle,
    Competition,
    CompetitionModel,
    Matchup,
    Model,
    Output,
    Prompt,
    Rating,
    Scope,
    Vote,
    Voter,
    utcnow,
)
from arena.ratings import elo

#: What a voter may answer, and how each lands in the vote log's ``winner`` column.
CHOICES = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}

T = TypeVar("T")

battles_t = Battle.__table__
ratings_t = Rating.__table__
votes_t = Vote.__table__
voters_t = Voter.__table__


@dataclass(frozen=True)
class VoterIdentity:
    """A voter as carried in the signed cookie: database id and public pseudonym."""

    id: int
    public_id: str


@dataclass(frozen=True)
class IssuedBattle:
    """A battle as shown to the voter (the API, the voting page): nothing in it names a model."""

    token: str
    competition: str
    competition_name: str
    prompt: str
    left_image_key: str
    right_image_key: str
    width: int
    height: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class SideResult:
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
    kept, flagged ``daily_cap``, and not counted.
    """

    min_vote_ms: int = 0
    daily_cap: int = 0

    @classmethod
    def from_config(cls, config: Any) -> VoteRules:
        return cls(min_vote_ms=config["MIN_VOTE_MS"], daily_cap=config["DAILY_VOTE_CAP"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _retry_when_busy(db: Database, work: Callable[[], T], attempts: int = 8) -> T:
    """Run ``work``; on SQLite, retry when the database is busy (locked) with backoff."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            busy = db.is_sqlite and "locked" in str(exc.orig).lower()
            if not busy or attempt == attempts - 1:
                raise
            time.sleep(0.01 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


def ensure_voter(db: Database, voter: VoterIdentity | None) -> VoterIdentity:
    """The voter from the cookie if it still exists, else a new anonymous voter."""
    if voter is not None:
        with db.engine.connect() as conn:
            found = conn.execute(
                select(Voter.id).where(Voter.id == voter.id, Voter.public_id == voter.public_id)
            ).first()
        if found is not None:
            return voter
    public_id = secrets.token_hex(16)

    def create() -> VoterIdentity:
        with db.write_transaction() as conn:
            voter_id = conn.execute(
                insert(Voter)
                .values(public_id=public_id, created_at=utcnow(), flagged=False)
                .returning(Voter.id)
            ).scalar_one()
        return VoterIdentity(voter_id, public_id)

    return _retry_when_busy(db, create)


def _choose_competition(conn: Connection, slug: str | None, rng: random.Random) -> Any:
    columns = (Competition.id, Competition.slug, Competition.name, Competition.status)
    if slug is not None:
        row = (
            conn.execute(select(*columns).where(Competition.slug == slug)).first()
            if storable(slug)
            else None
        )
        if row is None:
            raise NotFound(f"no competition with slug {quoted(slug)}", field="competition")
        if row.status != "open":
            raise Conflict(
                f"competition {slug!r} is {row.status}, not open for voting", field="competition"
            )
        return row
    # Only competitions where at least two models have a finished, visible output.
    ready = (
        select(Prompt.competition_id)
        .join(Output, Output.prompt_id == Prompt.id)
        .where(Output.status == "done", Output.hidden.is_(False))
        .group_by(Prompt.competition_id)
        .having(func.count(func.distinct(Output.model_id)) >= 2)
    )
    candidates = conn.execute(
        select(*columns).where(Competition.status == "open", Competition.id.in_(ready))
    ).all()
    if not candidates:
        raise NotFound("no competition is open for voting with outputs ready yet")
    # Weight toward competitions that need votes: battles so far from the live records.
    counts = dict(
        conn.execute(
            select(Scope.competition_id, func.coalesce(func.sum(Rating.battles), 0))
            .join(Rating, Rating.scope_id == Scope.id)
            .where(Scope.kind == "competition")
            .group_by(Scope.competition_id)
        ).all()
    )
    weights = [1.0 / (1.0 + counts.get(c.id, 0) / 2) for c in candidates]
    return rng.choices(candidates, weights=weights, k=1)[0]


def _choose_pair(
    conn: Connection, competition_id: int, rng: random.Random
) -> tuple[int, int, int, int, int] | None:
    """(prompt_id, output a, model a, output b, model b) for the least-met pair, or None."""
    outputs = conn.execute(
        select(Output.id, Output.prompt_id, Output.model_id)
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(
            CompetitionModel,
            and_(
                CompetitionModel.competition_id == Prompt.competition_id,
                CompetitionModel.model_id == Output.model_id,
            ),
        )
        .where(
            Prompt.competition_id == competition_id,
            Output.status == "done",
            Output.hidden.is_(False),
        )
    ).all()
    by_model: dict[int, dict[int, int]] = {}
    for output_id, prompt_id, model_id in outputs:
        by_model.setdefault(model_id, {})[prompt_id] = output_id
    models = sorted(by_model)
    if len(models) < 2:
        return None
    met = {
        (lo, hi): n
        for lo, hi, n in conn.execute(
            select(Matchup.model_lo_id, Matchup.model_hi_id, Matchup.battles).where(
                Matchup.competition_id == competition_id
            )
        )
    }
    best: list[tuple[int, int]] = []
    fewest = None
    for i, lo in enumerate(models):
        for hi in models[i + 1 :]:
            if by_model[lo].keys().isdisjoint(by_model[hi]):
                continue
            n = met.get((lo, hi), 0)
            if fewest is None or n < fewest:
                fewest, best = n, [(lo, hi)]
            elif n == fewest:
                best.append((lo, hi))
    if not best:
        return None
    a, b = rng.choice(best)
    if rng.random() < 0.5:
        a, b = b, a
    prompt_id = rng.choice(sorted(by_model[a].keys() & by_model[b].keys()))
    return prompt_id, by_model[a][prompt_id], a, by_model[b][prompt_id], b


def issue_battle(
    db: Database,
    voter: VoterIdentity,
    competition_slug: str | None = None,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=1),
    rng: random.Random | None = None,
) -> IssuedBattle:
    """Pick a competition, a prompt and the least-met pair of models, and issue a battle.

    Args:
        voter: who the battle is for; only this voter can vote on it.
        competition_slug: the competition to battle in; None picks an open one, weighted
            toward those with fewer votes.
        ttl: how long the token stays valid.
        rng: randomness for the choices and the sides (a fresh ``SystemRandom`` if None).

    Raises:
        NotFound: no such competition, or none open.
        Conflict: the competition is not open, or has fewer than two models with outputs.
    """
    rng = rng or random.SystemRandom()
    with db.engine.connect() as conn:
        competition = _choose_competition(conn, competition_slug, rng)
        pair = _choose_pair(conn, competition.id, rng)
        prompt = conn.execute(
            select(Prompt.text, Prompt.width, Prompt.height).where(
                Prompt.id == (pair[0] if pair else -1)
            )
        ).first()
    if pair is None or prompt is None:
        raise Conflict(
            f"competition {competition.slug!r} has no two models with finished outputs yet",
            field="competition",
        )
    prompt_id, left_output, left_model, right_output, right_model = pair
    token = secrets.token_urlsafe(32)
    now = utcnow()
    values = {
        "token_hash": token_hash(token),
        "competition_id": competition.id,
        "prompt_id": prompt_id,
        "left_output_id": left_output,
        "right_output_id": right_output,
        "left_model_id": left_model,
        "right_model_id": right_model,
        "left_image_key": secrets.token_hex(16),
        "right_image_key": secrets.token_hex(16),
        "voter_id": voter.id,
        "created_at": now,
        "expires_at": now + ttl,
    }
    lo, hi = sorted((left_model, right_model))

    def write() -> None:
        with db.write_transaction() as conn:
            conn.execute(insert(battles_t).values(values))
            _count_matchup(conn, db, competition.id, lo, hi)

    _retry_when_busy(db, write)
    return IssuedBattle(
        token=token,
        competition=competition.slug,
        competition_name=competition.name,
        prompt=prompt.text,
        left_image_key=values["left_image_key"],
        right_image_key=values["right_image_key"],
        width=prompt.width,
        height=prompt.height,
        expires_at=values["expires_at"],
    )


def _count_matchup(conn: Connection, db: Database, competition_id: int, lo: int, hi: int) -> None:
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        from sqlalchemy.dialects.postgresql import insert as upsert
    statement = upsert(Matchup).values(
        competition_id=competition_id, model_lo_id=lo, model_hi_id=hi, battles=1
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["competition_id", "model_lo_id", "model_hi_id"],
            set_={"battles": Matchup.battles + 1},
        )
    )


_outputs_t = Output.__table__
_CLAIM = Prepared(
    update(battles_t)
    .where(
        battles_t.c.token_hash == bindparam("th"),
        battles_t.c.voted_at.is_(None),
        # A battle whose output a moderator hid after it was issued takes no vote.
        ~select(_outputs_t.c.id)
        .where(
            _outputs_t.c.id.in_([battles_t.c.left_output_id, battles_t.c.right_output_id]),
            _outputs_t.c.hidden.is_(True),
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


# All six rating rows in one statement (VALUES columns are column1..6 on both databases).
_ROWS = ", ".join(f"(:s{i}, :m{i}, :e{i}, :w{i}, :l{i}, :t{i})" for i in range(6))
_UPDATE_RATINGS = Prepared(
    text(
        "UPDATE ratings SET elo = v.column3, wins = ratings.wins + v.column4,"
        " losses = ratings.losses + v.column5, ties = ratings.ties + v.column6,"
        " battles = ratings.battles + 1"
        f" FROM (VALUES {_ROWS}) AS v"
        " WHERE ratings.scope_id = v.column1 AND ratings.model_id = v.column2"
    )
)


_LOCK_RATINGS = Prepared(
    select(Rating.scope_id, Rating.model_id, Rating.elo, Scope.kind)
    .join(Scope, Scope.id == Rating.scope_id)
    .where(
        Rating.model_id.in_([bindparam("a"), bindparam("b")]),
        or_(
            Scope.kind == "overall",
            Scope.competition_id == bindparam("c"),
            Scope.category_id
            == select(Competition.category_id)
            .where(Competition.id == bindparam("c"))
            .scalar_subquery(),
        ),
    )
    # A fixed lock order (PostgreSQL) so that two votes sharing models cannot deadlock.
    .order_by(Rating.scope_id, Rating.model_id)
    .with_for_update(of=ratings_t)
)

_INSERT_VOTE = Prepared(
    insert(votes_t)
    .values(
        {
            name: bindparam(name)
            for name in (
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
            )
        }
    )
    .returning(votes_t.c.id)
)


# Run after the rating rows are locked: counts the vote on the voter's row (one row update,
# whatever the number of votes today) and reads the voter's flag. Flagging takes the rating
# locks before it touches the voter row, so a vote in flight either sees the flag here or
# commits before the flagging's replay reads the log.
_COUNT_VOTER_VOTE = Prepared(
    update(voters_t)
    .where(voters_t.c.id == bindparam("v"))
    .values(
        votes_today=case(
            (voters_t.c.votes_day == bindparam("day"), voters_t.c.votes_today + 1), else_=1
        ),
        votes_day=bindparam("day"),
    )
    .returning(voters_t.c.flagged, voters_t.c.votes_today)
)


def _lock_ratings(conn: Connection, competition_id: int, models: tuple[int, int]) -> list[Any]:
    return _LOCK_RATINGS.execute(conn, {"a": models[0], "b": models[1], "c": competition_id})


def _add_missing_ratings(conn: Connection, competition_id: int, models: tuple[int, int]) -> None:
    """Create rating rows a vote needs but that do not exist (models entered after seeding)."""
    category_id = conn.execute(
        select(Competition.category_id).where(Competition.id == competition_id)
    ).scalar_one()
    scope_ids = (
        conn.execute(
            select(Scope.id).where(
                or_(
                    Scope.kind == "overall",
                    Scope.competition_id == competition_id,
                    Scope.category_id == category_id,
                )
            )
        )
        .scalars()
        .all()
    )
    existing = set(
        conn.execute(
            select(Rating.scope_id, Rating.model_id).where(
                Rating.scope_id.in_(scope_ids), Rating.model_id.in_(models)
            )
        ).all()
    )
    missing = [
        {
            "scope_id": s,
            "model_id": m,
            "elo": elo.INITIAL,
            "wins": 0,
            "losses": 0,
            "ties": 0,
            "battles": 0,
        }
        for s in scope_ids
        for m in models
        if (s, m) not in existing
    ]
    if len(scope_ids) != 3:
        raise ArenaError("the competition's rating scopes are missing; run `arena seed`")
    conn.execute(insert(ratings_t), missing)


def record_vote(
    db: Database,
    token: str,
    voter: VoterIdentity | None,
    choice: str,
    *,
    k: float,
    rules: VoteRules = VoteRules(),
) -> VoteResult:
    """Record one vote on the battle behind ``token`` and update every scope's Elo and record.

    One transaction: the battle is claimed (single use), the six rating rows (two models ×
    competition, category, overall) are locked and updated, and the vote is appended. A vote
    that breaks one of ``rules``, or comes from a flagged voter, is appended but leaves the
    ratings as they were (see :class:`VoteResult`).

    Raises:
        ValidationError: ``choice`` is not left, right, tie or both_bad.
        NotFound: no battle has this token.
        Conflict: the battle already has its vote.
        Forbidden: the battle was issued to another voter (or the voter has no cookie).
        Gone: the battle expired, or a moderator hid one of its outputs since it was issued.
    """
    winner = CHOICES.get(choice) if isinstance(choice, str) else None
    if winner is None:
        raise ValidationError(
            f"winner must be one of {', '.join(CHOICES)}, got {quoted(choice)}", field="winner"
        )
    digest = token_hash(token)
    score = elo.SCORE_A[winner]

    def write() -> tuple[
        int, Any, dict[str, tuple[tuple[float, float], tuple[float, float]]], str | None
    ]:
        with db.write_transaction() as conn:
            now = utcnow()
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
            models = (battle.left_model_id, battle.right_model_id)
            rows = _lock_ratings(conn, battle.competition_id, models)
            if len(rows) != 6:
                _add_missing_ratings(conn, battle.competition_id, models)
                rows = _lock_ratings(conn, battle.competition_id, models)
            current = {
                (scope_id, model_id): (rating, kind) for scope_id, model_id, rating, kind in rows
            }
            created = db.read_timestamp(battle.created_at)
            response_ms = max(0, round((now - created).total_seconds() * 1000))
            day = now.date()
            flagged, today = _COUNT_VOTER_VOTE.execute(
                conn, {"v": battle.voter_id, "day": day.isoformat() if db.is_sqlite else day}
            )[0]
            flag = None
            if rules.min_vote_ms and response_ms < rules.min_vote_ms:
                flag = "fast"
            elif rules.daily_cap and today > rules.daily_cap:
                flag = "daily_cap"
            not_counted = flag or ("voter_flagged" if flagged else None)
            win_a, loss_a, tie = (
                (1, 0, 0) if score == 1.0 else (0, 1, 0) if score == 0.0 else (0, 0, 1)
            )
            params = []
            changes = {}
            expected_a = None
            for scope_id in sorted({row[0] for row in rows}):
                (a_before, kind) = current[(scope_id, models[0])]
                b_before = current[(scope_id, models[1])][0]
                if kind == "competition":
                    expected_a = elo.expected(a_before, b_before)
                if not_counted:
                    changes[kind] = ((a_before, a_before), (b_before, b_before))
                    continue
                a_after, b_after = elo.update(a_before, b_before, score, k)
                changes[kind] = ((a_before, a_after), (b_before, b_after))
                params.append(
                    {"s": scope_id, "m": models[0], "e": a_after, "w": win_a, "l": loss_a, "t": tie}
                )
                params.append(
                    {"s": scope_id, "m": models[1], "e": b_after, "w": loss_a, "l": win_a, "t": tie}
                )
            if params:
                _UPDATE_RATINGS.execute(
                    conn,
                    {
                        f"{key}{i}": value
                        for i, row in enumerate(params)
                        for key, value in row.items()
                    },
                )
            vote_id = _INSERT_VOTE.execute(
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
                    "expected_a": expected_a,
                    "source": "web",
                    "created_at": db.timestamp(now),
                },
            )[0][0]
            return vote_id, battle, changes, not_counted

    vote_id, battle, changes, not_counted = _retry_when_busy(db, write)
    names = _labels(db, Model, (battle.left_model_id, battle.right_model_id))
    slug = _labels(db, Competition, (battle.competition_id,))[battle.competition_id].slug

    def side(index: int, model_id: int) -> SideResult:
        before, after = changes["competition"][index]
        return SideResult(
            model_id=names[model_id].slug,
            model_name=names[model_id].name,
            elo_before=before,
            elo_after=after,
            scopes={kind: change[index] for kind, change in changes.items()},
        )

    return VoteResult(
        vote_id=vote_id,
        winner=choice,
        competition=slug,
        left=side(0, battle.left_model_id),
        right=side(1, battle.right_model_id),
        counted=not_counted is None,
        not_counted=not_counted,
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


def voter_vote_count(db: Database, voter_id: int) -> int:
    """How many votes this voter has given."""
    with db.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(votes_t).where(votes_t.c.voter_id == voter_id)
        ).scalar_one()


@dataclass(frozen=True)
class BattleImage:
    """What the image URL of one battle side resolves to."""

    output_id: int
    image_name: str
    width: int
    height: int


def battle_image_source(db: Database, image_key: str) -> BattleImage:
    """The output behind one side's image key, sized as its prompt.

    Raises:
        NotFound: no battle side has this key (or its output has no image).
        Gone: a moderator hid the output after the battle was issued.
    """
    side = or_(battles_t.c.left_image_key == image_key, battles_t.c.right_image_key == image_key)
    with db.engine.connect() as conn:
        battle = conn.execute(
            select(
                battles_t.c.left_image_key, battles_t.c.left_output_id, battles_t.c.right_output_id
            ).where(side)
        ).first()
        if battle is None:
            raise NotFound("no such battle image")
        left = battle.left_image_key == image_key
        chosen = battle.left_output_id if left else battle.right_output_id
        row = conn.execute(
            select(Output.image_name, Output.hidden, Prompt.width, Prompt.height)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .where(Output.id == chosen, Output.image_name.is_not(None))
        ).first()
    if row is None:
        raise NotFound("no such battle image")
    if row.hidden:
        raise Gone("a moderator withdrew this image; load a new battle")
    return BattleImage(chosen, row.image_name, row.width, row.height)


def battle_view(db: Database, token: str) -> IssuedBattle:
    """The battle behind ``token`` for re-rendering the page after a vote.

    Raises:
        NotFound: no battle has this token.
    """
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                Competition.slug,
                Competition.name,
                Prompt.text,
                Prompt.width,
                Prompt.height,
                battles_t.c.left_image_key,
                battles_t.c.right_image_key,
                battles_t.c.expires_at,
            )
            .select_from(battles_t)
            .join(Competition, Competition.id == battles_t.c.competition_id)
            .join(Prompt, Prompt.id == battles_t.c.prompt_id)
            .where(battles_t.c.token_hash == token_hash(token))
        ).first()
    if row is None:
        raise NotFound("no battle has this token", field="token")
    return IssuedBattle(
        token,
        row.slug,
        row.name,
        row.text,
        row.left_image_key,
        row.right_image_key,
        row.width,
        row.height,
        db.read_timestamp(row.expires_at),
    )
