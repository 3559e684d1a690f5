"""Arena tables: categories, competitions, prompts, matched outputs, voters, battles, votes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arena.models.base import Base, utcnow
from arena.models.catalog import Model, _in

COMPETITION_STATUSES = ("draft", "open", "closed")
OUTPUT_STATUSES = ("pending", "done", "failed")
# The winner column uses the vocabulary of public arena dumps, so imports and exports agree.
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
VOTE_SOURCES = ("web", "api", "import")
#: Why a vote was recorded but not counted: cast faster than a person can compare two
#: images, or beyond the voter's daily cap. Votes of flagged voters are not counted either,
#: but that is the voter's state (it can be lifted), not the vote's.
VOTE_FLAGS = ("fast", "daily_cap")


class Category(Base):
    """A use case such as Portrait; its leaderboard pools all its competitions' battles."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(80), default="Text-to-Image")
    description: Mapped[str | None] = mapped_column(Text)

    competitions: Mapped[list[Competition]] = relationship(back_populates="category")


class Competition(Base):
    """A themed arena in one category; names may repeat across editions, slugs may not."""

    __tablename__ = "competitions"
    __table_args__ = (CheckConstraint(_in("status", COMPETITION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    category: Mapped[Category] = relationship(back_populates="competitions")
    prompts: Mapped[list[Prompt]] = relationship(
        back_populates="competition", order_by="Prompt.position", cascade="all, delete-orphan"
    )
    models: Mapped[list[Model]] = relationship(
        secondary="competition_models", order_by="Model.slug"
    )


class CompetitionModel(Base):
    """Which models take part in a competition."""

    __tablename__ = "competition_models"

    competition_id: Mapped[int] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True, index=True)


class Prompt(Base):
    """One prompt of a competition: every model gets exactly these inputs (matched outputs)."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("competition_id", "key"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    competition: Mapped[Competition] = relationship(back_populates="prompts")


class Output(Base):
    """The image one model made for one prompt, with how, by whom, how fast and at what cost."""

    __tablename__ = "outputs"
    __table_args__ = (
        UniqueConstraint("prompt_id", "model_id"),
        CheckConstraint(_in("status", OUTPUT_STATUSES), name="status"),
        CheckConstraint("status <> 'done' OR image_name IS NOT NULL", name="done_has_image"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider: Mapped[str | None] = mapped_column(String(40))
    offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_offerings.id", ondelete="SET NULL")
    )
    image_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    format: Mapped[str | None] = mapped_column(String(10))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    prompt: Mapped[Prompt] = relationship()
    model: Mapped[Model] = relationship()


class Voter(Base):
    """An anonymous voter, known only by a random pseudonym kept in a signed cookie."""

    __tablename__ = "voters"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[dt.datetime | None] = mapped_column()
    #: Votes cast on ``votes_day`` (UTC), counted on the voter's row as each vote lands, so
    #: the daily cap costs one row update instead of counting the day's votes every time.
    votes_day: Mapped[dt.date | None] = mapped_column(Date)
    votes_today: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Disagreement with the consensus, as a z-score (see arena.ratings.signals), refreshed
    #: with every published snapshot; None until the voter has enough decided votes.
    anomaly_score: Mapped[float | None] = mapped_column(Float)
    #: Keyed hashes (never the address itself) of the client address that created the voter
    #: and of its network (IPv4 /24, IPv6 /48): new-voter limits, bursts, influence caps.
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    network_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: When the voter passed the new-voter proof of work (None: not yet).
    verified_at: Mapped[dt.datetime | None] = mapped_column()


#: Images per battle: a pairwise battle, or best-of-four.
BATTLE_SIZES = (2, 4)


class Battle(Base):
    """Two (or, best-of-four, four) outputs of one prompt shown to one voter.

    The vote token is stored only as its SHA-256; each side's image has its own random key,
    so the image URLs say nothing about the models or about each other. The model ids are
    copied from the outputs so that recording a vote needs no join. ``voted_at`` is set by
    the one vote the battle takes (a best-of-four vote appends several pairwise vote rows,
    all claimed by that one ``voted_at``).

    A best-of-four battle (``size`` 4) keeps its four images in :class:`BattleEntry`, in the
    order shown; its ``left_*`` and ``right_*`` columns repeat the first two, so everything
    that reads a pair's first two images reads them alike.
    """

    __tablename__ = "battles"
    __table_args__ = (
        CheckConstraint("left_output_id <> right_output_id", name="distinct_outputs"),
        CheckConstraint("left_model_id <> right_model_id", name="distinct_models"),
        CheckConstraint(_in("size", BATTLE_SIZES), name="size"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"), index=True)
    left_output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), index=True)
    right_output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), index=True)
    left_model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    right_model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    left_image_key: Mapped[str] = mapped_column(String(32), unique=True)
    right_image_key: Mapped[str] = mapped_column(String(32), unique=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    voted_at: Mapped[dt.datetime | None] = mapped_column()
    size: Mapped[int] = mapped_column(Integer, default=2, server_default="2")


class BattleEntry(Base):
    """One image of a best-of-four battle, at its ``position`` (0-3, the order shown)."""

    __tablename__ = "battle_entries"

    battle_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("battles.id", ondelete="CASCADE"),
        primary_key=True,
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    image_key: Mapped[str] = mapped_column(String(32), unique=True)


class Matchup(Base):
    """How often two models have been shown against each other in a competition.

    Matchmaking picks the least-met pair; the pair is stored with the lower model id first.
    """

    __tablename__ = "matchups"
    __table_args__ = (CheckConstraint("model_lo_id < model_hi_id", name="ordered_pair"),)

    competition_id: Mapped[int] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True
    )
    model_lo_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    model_hi_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    battles: Mapped[int] = mapped_column(Integer, default=0)


class Vote(Base):
    """One vote: the append-only log that every rating is derived from.

    ``id`` order is the order in which the vote's rating updates were applied (the vote row
    is inserted after the rating rows are locked and updated), so replaying by id reproduces
    the stored ratings. ``model_a`` is the left model, ``model_b`` the right.
    """

    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint(_in("winner", WINNERS), name="winner"),
        CheckConstraint(_in("source", VOTE_SOURCES), name="source"),
        CheckConstraint("model_a_id <> model_b_id", name="distinct_models"),
        CheckConstraint(_in("flag", VOTE_FLAGS), name="flag"),
        # A voter's votes, in time order (the admin's voter signals, per-voter history).
        Index("ix_votes_voter_id_created_at", "voter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: The battle voted on; a best-of-four vote appends several rows with the same battle.
    battle_id: Mapped[int | None] = mapped_column(ForeignKey("battles.id"), index=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"))
    model_a_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    model_b_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    winner: Mapped[str] = mapped_column(String(20))
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("voters.id"))
    response_ms: Mapped[int | None] = mapped_column(Integer)
    #: Not counted for this reason (one of VOTE_FLAGS); None for a counted vote.
    flag: Mapped[str | None] = mapped_column(String(20))
    #: Model A's expected score from the competition's Elo just before the vote (upsets).
    expected_a: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Keyed hash of the client address the vote came from (None: imported or unknown).
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
