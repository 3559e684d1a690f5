"""Battles: issuing an anonymous battle to a voter, and reading one back (page, images)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, or_, select

from arena.db import Database, Prepared
from arena.errors import ArenaError, Conflict, Gone, NotFound
from arena.models import Battle, BattleEntry, Competition, Output, Prompt, utcnow
from arena.services.voting import matchmaking
from arena.services.voting.matchmaking import FRESH, MatchmakingSettings
from arena.services.voting.voters import VoterIdentity, ensure_voter, voter_vote_count

battles_t = Battle.__table__
entries_t = BattleEntry.__table__


@dataclass(frozen=True)
class IssuedBattle:
    """A battle as shown to the voter (the API, the voting page): nothing in it names a model.

    ``voter`` is who it was issued to (a new voter when the request had none). A
    best-of-four battle has two ``extra_image_keys`` (its third and fourth images).
    """

    token: str
    competition: str
    competition_name: str
    prompt: str
    left_image_key: str
    right_image_key: str
    width: int
    height: int
    expires_at: dt.datetime
    voter: VoterIdentity
    extra_image_keys: tuple[str, ...] = ()

    @property
    def image_keys(self) -> tuple[str, ...]:
        """Every image's key, in the order shown (left and right first)."""
        return (self.left_image_key, self.right_image_key, *self.extra_image_keys)

    @property
    def size(self) -> int:
        """Images in the battle: 2, or 4 for best-of-four."""
        return 2 + len(self.extra_image_keys)


def token_hash(token: str) -> str:
    """What the database keeps of a battle token: its SHA-256 (the token itself is secret)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_battle(
    db: Database,
    voter: VoterIdentity | None,
    competition_slug: str | None = None,
    *,
    ttl: dt.timedelta = dt.timedelta(hours=1),
    rng: random.Random | None = None,
    settings: MatchmakingSettings = FRESH,
    size: int = 2,
) -> IssuedBattle:
    """Pick a competition, a prompt and a pair of models (``matchmaking``), and issue a battle.

    Args:
        voter: who asks (from the cookie); None or an unknown voter gets a new identity,
            returned in the battle (none is created when no battle can be issued). Only this
            voter can vote on it.
        competition_slug: the competition to battle in; None picks an open one.
        ttl: how long the token stays valid.
        rng: randomness for the choices and the sides (a fresh ``SystemRandom`` if None).
        settings: the matchmaking policy and how long its reads are reused (the app's are
            ``MatchmakingSettings.from_config``; the default reads afresh every time).
        size: 2 (a pair) or 4 (best-of-four: four models on one prompt).

    Raises:
        NotFound: no such competition, or none open.
        Conflict: the competition is not open, or has fewer than ``size`` models with
            outputs of a common prompt.
    """
    chosen = _choose(db, competition_slug, rng or random.SystemRandom(), voter, settings, size)
    return _write(db, ensure_voter(db, voter), chosen, ttl)


class _Choice(NamedTuple):
    """What matchmaking chose for a battle: the competition row, the pair and its prompt."""

    competition: Any
    chosen: matchmaking.Chosen


def _choose(
    db: Database,
    competition_slug: str | None,
    rng: random.Random,
    voter: VoterIdentity | None,
    settings: MatchmakingSettings,
    size: int = 2,
) -> _Choice:
    """Competition, models and prompt of the next battle for ``voter`` (reads only): never
    an output already revealed to them while others remain (``matchmaking.choose_pair``).

    Raises:
        NotFound, Conflict: as :func:`issue_battle`.
    """
    with db.engine.connect() as conn:
        competition = matchmaking.choose_competition(conn, db, competition_slug, rng, settings.ttl)
        chosen = matchmaking.choose_pair(
            conn, db, competition.id, rng, voter.id if voter else None, settings, size
        )
    if chosen is None:
        what = "two models" if size == 2 else "four models with outputs of one prompt"
        raise Conflict(
            f"competition {competition.slug!r} has no {what} with finished outputs yet"
            + ("" if size == 2 else "; try a two-image battle"),
            field="competition" if size == 2 else "size",
        )
    return _Choice(competition, chosen)


_INSERT_BATTLE = Prepared(
    insert(battles_t)
    .values(
        {
            name: bindparam(name)
            for name in (
                "token_hash",
                "competition_id",
                "prompt_id",
                "left_output_id",
                "right_output_id",
                "left_model_id",
                "right_model_id",
                "left_image_key",
                "right_image_key",
                "voter_id",
                "created_at",
                "expires_at",
                "size",
            )
        }
    )
    .returning(battles_t.c.id)
)
_INSERT_ENTRIES = Prepared(
    insert(entries_t).values(
        {name: bindparam(name) for name in ("battle_id", "position", "output_id", "model_id")}
        | {"image_key": bindparam("image_key")}
    )
)


def _write(db: Database, voter: VoterIdentity, chosen: _Choice, ttl: dt.timedelta) -> IssuedBattle:
    """Store the chosen battle for ``voter`` (an existing voter)."""
    competition, (pair, prompt, width, height, extra) = chosen
    token = secrets.token_urlsafe(32)
    now = utcnow()
    values = {
        "token_hash": token_hash(token),
        "competition_id": competition.id,
        "prompt_id": pair.prompt_id,
        "left_output_id": pair.left_output,
        "right_output_id": pair.right_output,
        "left_model_id": pair.left_model,
        "right_model_id": pair.right_model,
        "left_image_key": secrets.token_hex(16),
        "right_image_key": secrets.token_hex(16),
        "voter_id": voter.id,
        "created_at": db.timestamp(now),
        "expires_at": db.timestamp(now + ttl),
        "size": 2 + len(extra),
    }
    extra_keys = tuple(secrets.token_hex(16) for _ in extra)

    def write() -> None:
        with db.write_transaction() as conn:
            battle_id = _INSERT_BATTLE.execute(conn, values)[0][0]
            if extra:
                shown = [
                    (pair.left_output, pair.left_model, values["left_image_key"]),
                    (pair.right_output, pair.right_model, values["right_image_key"]),
                    *((o, m, k) for (o, m), k in zip(extra, extra_keys, strict=True)),
                ]
                _INSERT_ENTRIES.execute(
                    conn,
                    [
                        {
                            "battle_id": battle_id,
                            "position": i,
                            "output_id": o,
                            "model_id": m,
                            "image_key": k,
                        }
                        for i, (o, m, k) in enumerate(shown)
                    ],
                )

    db.retry_when_busy(write)
    return IssuedBattle(
        token=token,
        competition=competition.slug,
        competition_name=competition.name,
        prompt=prompt,
        left_image_key=values["left_image_key"],
        right_image_key=values["right_image_key"],
        width=width,
        height=height,
        expires_at=now + ttl,
        voter=voter,
        extra_image_keys=extra_keys,
    )


@dataclass(frozen=True)
class VotingPage:
    """What the voting page shows: a battle, or the problem that kept one from being issued
    (nothing open, no outputs yet), and how many votes the voter has given."""

    voter: VoterIdentity
    battle: IssuedBattle | None
    problem: ArenaError | None
    votes: int


def voting_page(
    db: Database,
    voter: VoterIdentity | None,
    competition_slug: str | None,
    *,
    ttl: dt.timedelta,
    settings: MatchmakingSettings = FRESH,
    size: int = 2,
) -> VotingPage:
    """A fresh battle (``size`` images) for the voting page, or why there is none.

    Raises:
        NotFound: ``competition_slug`` names no competition (a 404 page, not an empty arena).
    """
    voter = ensure_voter(db, voter)
    try:
        chosen = _choose(db, competition_slug, random.SystemRandom(), voter, settings, size)
    except ArenaError as exc:
        if competition_slug is not None and exc.status == 404:
            raise
        return VotingPage(voter, None, exc, voter_vote_count(db, voter))
    battle = _write(db, voter, chosen, ttl)
    return VotingPage(voter, battle, None, voter_vote_count(db, voter))


def battle_view(db: Database, token: str, voter: VoterIdentity) -> IssuedBattle:
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
                battles_t.c.id,
                battles_t.c.size,
            )
            .select_from(battles_t)
            .join(Competition, Competition.id == battles_t.c.competition_id)
            .join(Prompt, Prompt.id == battles_t.c.prompt_id)
            .where(battles_t.c.token_hash == token_hash(token))
        ).first()
        extra: tuple[str, ...] = ()
        if row is not None and row.size > 2:
            extra = tuple(
                conn.execute(
                    select(entries_t.c.image_key)
                    .where(entries_t.c.battle_id == row.id, entries_t.c.position >= 2)
                    .order_by(entries_t.c.position)
                ).scalars()
            )
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
        voter,
        extra,
    )


@dataclass(frozen=True)
class BattleImage:
    """What the image URL of one battle side resolves to: the output, sized as its prompt,
    the largest prompt size of its competition (which fixes the padded length), and the
    battle's voter and state (only its voter is served it, only while it is servable)."""

    output_id: int
    image_name: str
    width: int
    height: int
    max_pixels: int
    voter_id: int
    expires_at: dt.datetime
    voted_at: dt.datetime | None


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
                battles_t.c.left_image_key,
                battles_t.c.left_output_id,
                battles_t.c.right_output_id,
                battles_t.c.competition_id,
                battles_t.c.voter_id,
                battles_t.c.expires_at,
                battles_t.c.voted_at,
            ).where(side)
        ).first()
        if battle is not None:
            left = battle.left_image_key == image_key
            chosen = battle.left_output_id if left else battle.right_output_id
        else:
            # A best-of-four battle's third or fourth image.
            battle = conn.execute(
                select(
                    entries_t.c.output_id,
                    battles_t.c.competition_id,
                    battles_t.c.voter_id,
                    battles_t.c.expires_at,
                    battles_t.c.voted_at,
                )
                .join(battles_t, battles_t.c.id == entries_t.c.battle_id)
                .where(entries_t.c.image_key == image_key)
            ).first()
            if battle is None:
                raise NotFound("no such battle image")
            chosen = battle.output_id
        row = conn.execute(
            select(Output.image_name, Output.hidden, Prompt.width, Prompt.height)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .where(Output.id == chosen, Output.image_name.is_not(None))
        ).first()
        largest = conn.scalar(
            select(func.max(Prompt.width * Prompt.height)).where(
                Prompt.competition_id == battle.competition_id
            )
        )
    if row is None:
        raise NotFound("no such battle image")
    if row.hidden:
        raise Gone("a moderator withdrew this image; load a new battle")
    return BattleImage(
        chosen,
        row.image_name,
        row.width,
        row.height,
        int(largest or row.width * row.height),
        battle.voter_id,
        db.read_timestamp(battle.expires_at),
        db.read_timestamp(battle.voted_at) if battle.voted_at else None,
    )


def models_shown(session: Any, competition_id: int) -> set[int]:
    """Every model shown in a battle of this competition (any of a best-of-four's four)."""
    pairs = session.execute(
        select(battles_t.c.left_model_id, battles_t.c.right_model_id)
        .where(battles_t.c.competition_id == competition_id)
        .distinct()
    )
    entries = session.scalars(
        select(entries_t.c.model_id)
        .join(battles_t, battles_t.c.id == entries_t.c.battle_id)
        .where(battles_t.c.competition_id == competition_id)
        .distinct()
    )
    return {model_id for pair in pairs for model_id in pair} | set(entries)
