"""The catalog listing: searching and filtering models, their overall standings, one model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from arena.db import storable
from arena.errors import NotFound, ValidationError, quoted
from arena.models import Model, ProviderOffering, Rating, Scope
from arena.services.catalog.pricing import Price, cheapest, offering_price
from arena.services.leaderboards.boards import live_rows
from arena.services.scopes import OVERALL

SORTS = ("rating", "name")


@dataclass(frozen=True)
class Standing:
    """A model's live Elo, record and rank in one scope."""

    elo: float
    wins: int
    losses: int
    ties: int
    battles: int
    rank: int
    rank_of: int

    @property
    def win_rate(self) -> float:
        """Wins per battle (0.0 without battles)."""
        return self.wins / self.battles if self.battles else 0.0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Standing:
        """The standing in one row of ``leaderboards.live_rows``."""
        return cls(
            elo=row["elo"],
            wins=row["wins"],
            losses=row["losses"],
            ties=row["ties"],
            battles=row["battles"],
            rank=row["rank"],
            rank_of=row["rank_of"],
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
        sort: ``rating`` (overall Elo, best first; models without battles last, by name)
            or ``name``.

    Returns:
        One row per matching model with its overall Elo (None without battles), battles
        and cheapest known price (None when every price is unknown or nobody offers it).

    Raises:
        ValidationError: an unknown sort.
    """
    if sort not in SORTS:
        raise ValidationError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}", field="sort")
    if not all(storable(text or "") for text in (q, creator, family, tag, status)):
        return []
    overall = _overall_scope_id(session)
    battles = Rating.battles
    statement = select(Model, Rating.elo, battles).outerjoin(
        Rating, (Rating.model_id == Model.id) & (Rating.scope_id == (overall or -1))
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
    unrated = case((battles > 0, 0), else_=1)
    if sort == "rating":
        statement = statement.order_by(unrated, Rating.elo.desc(), Model.name, Model.slug)
    else:
        statement = statement.order_by(Model.name, Model.slug)
    statement = statement.options(
        selectinload(Model.offerings).selectinload(ProviderOffering.provider)
    )
    rows = []
    for model, elo, n_battles in session.execute(statement):
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
    """Every model's overall standing (models with battles only), keyed by slug."""
    overall = _overall_scope_id(session)
    if overall is None:
        return {}
    return {row["model_id"]: Standing.from_row(row) for row in live_rows(session, overall)}
