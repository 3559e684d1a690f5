"""The catalog listing: searching and filtering models, their overall standings, one model.

The catalog is ordered by the published overall ranking (docs/contract.md, 2.5), the same
ranking the leaderboards, model pages and exports show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from arena.db import storable
from arena.errors import NotFound, ValidationError, quoted
from arena.models import Model, ProviderOffering, Rating, Scope, Snapshot, SnapshotRow
from arena.services.catalog.pricing import Price, cheapest, offering_price
from arena.services.leaderboards.boards import PublishedRank, live_rows, published_ranks
from arena.services.scopes import OVERALL

SORTS = ("rating", "name")


@dataclass(frozen=True)
class Standing:
    """A model's standing in one scope: its live Elo and record, and its place in the scope's
    latest published ranking (``published`` None while no snapshot ranks it)."""

    elo: float
    wins: int
    losses: int
    ties: int
    battles: int
    published: PublishedRank | None = None

    @property
    def win_rate(self) -> float:
        """Wins per battle (0.0 without battles)."""
        return self.wins / self.battles if self.battles else 0.0

    @property
    def rank(self) -> int | None:
        """The published rank (None: not ranked yet)."""
        return self.published.rank if self.published else None

    @property
    def rank_of(self) -> int | None:
        """How many models the published ranking ranks (None: not ranked yet)."""
        return self.published.rank_of if self.published else None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], published: PublishedRank | None = None) -> Standing:
        """The standing from a live row (``elo``, ``wins``, ``losses``, ``ties``, ``battles``,
        as in ``leaderboards.live_rows``) and the model's published rank, if any."""
        return cls(
            elo=row["elo"],
            wins=row["wins"],
            losses=row["losses"],
            ties=row["ties"],
            battles=row["battles"],
            published=published,
        )


@dataclass(frozen=True)
class CatalogRow:
    """One model in the catalog listing."""

    slug: str
    name: str
    summary: str | None
    creator: str | None
    family: str | None
    status: str
    tags: list[str]
    elo: float | None
    battles: int
    cheapest: Price | None
    rank: int | None = None
    rank_of: int | None = None
    bt_rating: float | None = None
    provisional: bool = False


@dataclass(frozen=True)
class CatalogFilters:
    """The values the catalog's filter menus offer, taken from the data."""

    creators: list[str]
    families: list[str]
    tags: list[str]
    statuses: list[str]


@dataclass(frozen=True)
class CatalogPage:
    """What ``/models`` shows: the matching rows and the filter menus' values."""

    rows: list[CatalogRow]
    filters: CatalogFilters


def _overall_scope_id(session: Session) -> int | None:
    return session.scalar(select(Scope.id).where(Scope.key == OVERALL))


def _latest_overall_snapshot(session: Session, overall: int | None) -> int | None:
    """The id of the newest overall snapshot (None before the first one)."""
    if overall is None:
        return None
    newest = select(Snapshot.id).where(Snapshot.scope_id == overall)
    return session.scalar(newest.order_by(Snapshot.id.desc()).limit(1))


def list_models(
    session: Session,
    *,
    q: str | None = None,
    creator: str | None = None,
    family: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    sort: str = "rating",
) -> list[CatalogRow]:
    """The catalog, searched, filtered and sorted.

    Args:
        q: case-insensitive text searched in name, slug, creator, family and tags.
        creator, family, tag, status: exact filters (None or "" for any).
        sort: ``rating`` (the published overall ranking, best first; models it does not
            rank yet last, by name) or ``name``.

    Returns:
        One row per matching model with its published overall rank, ``rank_of``, rating and
        provisional flag (None/False while unranked), its live overall Elo (None without
        battles), battles and cheapest known price (None when every price is unknown or
        nobody offers it).

    Raises:
        ValidationError: an unknown sort.
    """
    if sort not in SORTS:
        raise ValidationError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}", field="sort")
    if not all(storable(text or "") for text in (q, creator, family, tag, status)):
        return []
    overall = _overall_scope_id(session)
    snapshot = _latest_overall_snapshot(session, overall)
    battles = Rating.battles
    statement = (
        select(
            Model,
            Rating.elo,
            battles,
            SnapshotRow.rank,
            SnapshotRow.rank_of,
            SnapshotRow.bt_rating,
            SnapshotRow.provisional,
        )
        .outerjoin(Rating, (Rating.model_id == Model.id) & (Rating.scope_id == (overall or -1)))
        .outerjoin(
            SnapshotRow,
            (SnapshotRow.model_id == Model.id) & (SnapshotRow.snapshot_id == (snapshot or -1)),
        )
    )
    q = (q or "").strip()
    if q:
        statement = statement.where(
            or_(
                Model.name.icontains(q, autoescape=True),
                Model.slug.icontains(q, autoescape=True),
                Model.creator.icontains(q, autoescape=True),
                Model.family.icontains(q, autoescape=True),
                cast(Model.tags, String).icontains(q, autoescape=True),
            )
        )
    if creator:
        statement = statement.where(Model.creator == creator)
    if family:
        statement = statement.where(Model.family == family)
    if status:
        statement = statement.where(Model.status == status)
    if tag:
        # Tags are a JSON list; its text holds each tag as a JSON string, quotes included.
        statement = statement.where(
            cast(Model.tags, String).contains(json.dumps(tag), autoescape=True)
        )
    unranked = case((SnapshotRow.rank.is_(None), 1), else_=0)
    if sort == "rating":
        statement = statement.order_by(unranked, SnapshotRow.rank, Model.name, Model.slug)
    else:
        statement = statement.order_by(Model.name, Model.slug)
    statement = statement.options(
        selectinload(Model.offerings).selectinload(ProviderOffering.provider)
    )
    rows = []
    for model, elo, n_battles, rank, rank_of, bt_rating, provisional in session.execute(statement):
        # SQL matched the tag in the list's JSON text; confirm it on the list itself.
        if tag and tag not in model.tags:
            continue
        rated = bool(n_battles)
        rows.append(
            CatalogRow(
                slug=model.slug,
                name=model.name,
                summary=model.summary,
                creator=model.creator,
                family=model.family,
                status=model.status,
                tags=list(model.tags or []),
                elo=elo if rated else None,
                battles=n_battles or 0,
                cheapest=cheapest([offering_price(o) for o in model.offerings]),
                rank=rank,
                rank_of=rank_of,
                bt_rating=bt_rating,
                provisional=bool(provisional),
            )
        )
    return rows


def catalog_filters(session: Session) -> CatalogFilters:
    """Every creator, family, tag and status in the catalog, sorted, for the filter menus."""
    rows = session.execute(select(Model.creator, Model.family, Model.status, Model.tags)).all()
    return CatalogFilters(
        creators=sorted({r.creator for r in rows if r.creator}, key=str.lower),
        families=sorted({r.family for r in rows if r.family}, key=str.lower),
        tags=sorted({t for r in rows for t in (r.tags or [])}),
        statuses=sorted({r.status for r in rows}),
    )


def catalog_page(
    session: Session,
    *,
    q: str | None = None,
    creator: str | None = None,
    family: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    sort: str = "rating",
) -> CatalogPage:
    """The catalog page: ``list_models`` with these arguments and ``catalog_filters``.

    Raises:
        ValidationError: an unknown sort.
    """
    rows = list_models(
        session, q=q, creator=creator, family=family, tag=tag, status=status, sort=sort
    )
    return CatalogPage(rows=rows, filters=catalog_filters(session))


def get_model(session: Session, slug: str) -> Model:
    """The model with this slug, its parameters and offerings (with providers) loaded.

    Raises:
        NotFound: no model has this slug.
    """
    if not storable(slug):
        raise NotFound(f"There is no model called {quoted(slug)}.", field="model")
    model = session.scalar(
        select(Model)
        .where(Model.slug == slug)
        .options(
            selectinload(Model.parameters),
            selectinload(Model.offerings).selectinload(ProviderOffering.provider),
        )
    )
    if model is None:
        raise NotFound(f"There is no model called {quoted(slug)}.", field="model")
    return model


def all_models(session: Session) -> list[Model]:
    """Every model by slug, with offerings and providers loaded (for the models API)."""
    return list(
        session.scalars(
            select(Model)
            .order_by(Model.slug)
            .options(selectinload(Model.offerings).selectinload(ProviderOffering.provider))
        )
    )


def overall_standings(session: Session) -> dict[str, Standing]:
    """Every model's overall standing (models with battles only) with its published overall
    rank, keyed by slug."""
    overall = _overall_scope_id(session)
    if overall is None:
        return {}
    ranks = published_ranks(session, scope_ids=[overall])
    return {
        row["model_id"]: Standing.from_row(row, ranks.get((overall, row["model_pk"])))
        for row in live_rows(session, overall)
    }
