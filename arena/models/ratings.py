"""Rating tables: scopes, live Elo and records per scope, published leaderboard snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arena.models.base import Base, utcnow
from arena.models.catalog import _in

SCOPE_KINDS = ("overall", "category", "competition")
INITIAL_ELO = 1000.0
#: The rigging detectors (arena.services.detection).
FINDING_DETECTORS = ("favouritism", "selective", "cluster", "burst")


class Scope(Base):
    """A leaderboard scope: ``overall``, ``category:<slug>`` or ``competition:<slug>``."""

    __tablename__ = "scopes"
    __table_args__ = (
        CheckConstraint(_in("kind", SCOPE_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'overall' AND category_id IS NULL AND competition_id IS NULL)"
            " OR (kind = 'category' AND category_id IS NOT NULL AND competition_id IS NULL)"
            " OR (kind = 'competition' AND competition_id IS NOT NULL AND category_id IS NULL)",
            name="kind_matches_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), unique=True
    )
    competition_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), unique=True
    )


class Rating(Base):
    """A model's live online Elo and record in one scope, updated with every vote."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint(
            "wins >= 0 AND losses >= 0 AND ties >= 0 AND battles = wins + losses + ties",
            name="record_consistent",
        ),
    )

    scope_id: Mapped[int] = mapped_column(
        ForeignKey("scopes.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True, index=True)
    elo: Mapped[float] = mapped_column(Float, default=INITIAL_ELO)
    wins: Mapped[int] = mapped_column(Integer, default=0)
    losses: Mapped[int] = mapped_column(Integer, default=0)
    ties: Mapped[int] = mapped_column(Integer, default=0)
    battles: Mapped[int] = mapped_column(Integer, default=0)


class Snapshot(Base):
    """An immutable, versioned leaderboard of one scope, fitted from the vote log.

    ``plots`` holds what the leaderboard's charts need, computed with the fit: the pairwise
    wins, ties and battle counts, and each model's online Elo over the scope's vote log.
    """

    __tablename__ = "snapshots"
    # The latest snapshot of a scope is read on every board: (scope_id, id) finds it at once
    # however many the background publisher has written.
    __table_args__ = (Index("ix_snapshots_scope_id_id", "scope_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    votes: Mapped[int] = mapped_column(Integer)
    bootstrap_rounds: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer)
    min_battles: Mapped[int] = mapped_column(Integer)
    plots: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: How ties were fitted (``arena.ratings.published``): ``decisive`` (the published
    #: default), ``davidson``, or ``half`` (a tie is half a win, as FastChat).
    ties_model: Mapped[str] = mapped_column(String(10), default="decisive")
    #: The tie rate the model reports: all votes' (``decisive``), or between two equally
    #: rated models (``davidson``); None for ``half``.
    tie_rate: Mapped[float | None] = mapped_column(Float)
    #: The newest counted vote the fit saw (None: no votes): the background publisher
    #: compares it with the log to know whether the board is stale.
    last_vote_id: Mapped[int | None] = mapped_column(Integer)
    #: The influence audit of this fit (arena.services.leaderboards.audit): the voters and
    #: addresses that move the ratings most, and how far leaving them out moves each model.
    audit: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    scope: Mapped[Scope] = relationship()
    rows: Mapped[list[SnapshotRow]] = relationship(order_by="SnapshotRow.rank")


class SnapshotRow(Base):
    """One model's line in a published snapshot (the leaderboard columns, docs/contract.md 3.6)."""

    __tablename__ = "snapshot_rows"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    rank_of: Mapped[int] = mapped_column(Integer)
    rank_ub: Mapped[int] = mapped_column(Integer)
    elo: Mapped[float] = mapped_column(Float)
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    ties: Mapped[int] = mapped_column(Integer)
    battles: Mapped[int] = mapped_column(Integer)
    win_rate: Mapped[float] = mapped_column(Float)
    bt_rating: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Share of the model's counted battles in the scope that were ties.
    tie_rate: Mapped[float] = mapped_column(Float, default=0.0)


class Finding(Base):
    """What a rigging detector found at the latest publication (replaced at every one).

    ``detector`` is one of ``FINDING_DETECTORS``; a finding names a voter, or an address or
    network (bursts), and usually a model; ``flagged`` says the voter was flagged for it.
    """

    __tablename__ = "findings"
    __table_args__ = (CheckConstraint(_in("detector", FINDING_DETECTORS), name="detector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    detector: Mapped[str] = mapped_column(String(20))
    voter_id: Mapped[int | None] = mapped_column(
        ForeignKey("voters.id", ondelete="CASCADE"), index=True
    )
    address_hash: Mapped[str | None] = mapped_column(String(64))
    network_hash: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class Lease(Base):
    """A named lease held by one process at a time (e.g. the background publisher): whoever
    holds an unexpired lease does the job; others wait for it to expire or be released."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column()
