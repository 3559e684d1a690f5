"""The model catalog: listing with search and filters, model pages, parameter schemas, galleries.

Everything a model page shows is gathered here from our own tables: the catalog (models,
parameters, offerings, providers), live ratings and ranks per scope (via ``leaderboards``),
provider performance measured from the outputs table, and the image gallery. Gallery images
of arena competitions come only from *closed* competitions: while a competition is open for
voting nothing here links any of its outputs to its model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import String, case, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from arena.db import storable
from arena.errors import NotFound, ValidationError, quoted
from arena.generation.builtin_render import render_png
from arena.generation.pricing import image_cost
from arena.media import image_path
from arena.models import (
    Category,
    Competition,
    Model,
    ModelParameter,
    Output,
    Prompt,
    ProviderOffering,
    Rating,
    Scope,
)
from arena.services.leaderboards import live_rows
from arena.services.scopes import OVERALL

SORTS = ("rating", "name")
#: Titles of the parameter groups, in page order (the reference page's headings).
GROUP_TITLES = {
    "core": "Core Parameters",
    "size": "Size & Layout",
    "output": "Output & Format",
    "additional": "Additional Parameters",
}
PRICING_SUFFIX = {"per_megapixel": "/megapixel", "per_image": "/image"}
#: Prices in different units are compared by the cost of one image of this size (the size
#: of the code examples).
COMPARE_SIZE = (1024, 1024)
#: Curated gallery images: rendered by the builtin stand-in at this size and seed.
GALLERY_SIZE = 512
GALLERY_SEED = 0
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BUILTIN = "builtin"


# --- value objects ---------------------------------------------------------------------------


def format_price(unit: str, usd: Decimal) -> str:
    """A price as the reference page writes it: two significant figures and its unit.

    ``0.01`` per megapixel is ``"$0.010/megapixel"``, ``0.005`` per image ``"$0.0050/image"``.

    Raises:
        ValueError: an unknown pricing unit.
    """
    if unit not in PRICING_SUFFIX:
        raise ValueError(f"unknown pricing unit {unit!r}")
    usd = Decimal(usd)
    if usd == 0:
        return f"$0.00{PRICING_SUFFIX[unit]}"
    decimals = max(0, 1 - usd.adjusted())
    rounded = usd.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"${rounded:f}{PRICING_SUFFIX[unit]}"


@dataclass(frozen=True)
class Price:
    """A published price of one offering."""

    unit: str
    usd: Decimal
    provider: str
    provider_name: str

    @property
    def label(self) -> str:
        """``"$0.0050/image"``."""
        return format_price(self.unit, self.usd)

    @property
    def per_image_usd(self) -> Decimal:
        """What one ``COMPARE_SIZE`` image costs at this price (to compare units)."""
        cost = image_cost(self.unit, self.usd, *COMPARE_SIZE)
        assert cost is not None  # a Price always has a unit and an amount
        return cost


def offering_price(offering: ProviderOffering) -> Price | None:
    """The offering's published price (its provider loaded), or None when unknown."""
    if offering.pricing_unit is None or offering.price_usd is None:
        return None
    return Price(
        offering.pricing_unit,
        Decimal(offering.price_usd),
        offering.provider.slug,
        offering.provider.name,
    )


def cheapest(prices: list[Price | None]) -> Price | None:
    """The lowest known price by the cost of one 1024x1024 image; None when all are unknown."""
    known = [p for p in prices if p is not None]
    return min(known, key=lambda p: (p.per_image_usd, p.provider)) if known else None


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
        return self.wins / self.battles if self.battles else 0.0


# --- the catalog listing ---------------------------------------------------------------------


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


# --- one model ------------------------------------------------------------------------------


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
    return {row["model_id"]: _standing(row) for row in live_rows(session, overall)}


def _number(value: float | None) -> int | float | None:
    """Whole-number bounds as ints, so ``minimum: 0`` reads as in the reference."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def parameter_schema(model: Model) -> dict[str, Any]:
    """The compiled JSON Schema (2020-12) of a request body for this model.

    Every parameter is a property with its ``type`` and ``description``, and where known its
    ``default``, ``enum``, ``minimum`` and ``maximum``; a provider-only parameter lists the
    providers that accept it under ``x-providers``. Required parameters (``prompt``) are in
    ``required``; other properties are refused (``additionalProperties: false``).

    Args:
        model: a model with its ``parameters`` loaded (see ``get_model``).
    """
    properties: dict[str, Any] = {}
    for p in model.parameters:
        spec: dict[str, Any] = {"type": p.type}
        if p.description:
            spec["description"] = p.description
        if p.default is not None:
            spec["default"] = p.default
        if p.enum:
            spec["enum"] = list(p.enum)
        if p.minimum is not None:
            spec["minimum"] = _number(p.minimum)
        if p.maximum is not None:
            spec["maximum"] = _number(p.maximum)
        if p.providers:
            spec["x-providers"] = list(p.providers)
        properties[p.name] = spec
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"{model.name} image generation request",
        "type": "object",
        "required": [p.name for p in model.parameters if p.required],
        "properties": properties,
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ParameterGroup:
    """One heading of the API Parameters section and its parameters, in schema order."""

    key: str
    title: str
    parameters: list[ModelParameter]


@dataclass(frozen=True)
class Performance:
    """What our generation records say about one provider (or all of them) for a model."""

    provider: str
    images: int
    failed: int
    p50_latency_ms: int | None

    @property
    def success_rate(self) -> float | None:
        attempts = self.images + self.failed
        return self.images / attempts if attempts else None


@dataclass(frozen=True)
class Offering:
    """One provider offering as the page shows it, with its measured performance."""

    provider: str
    provider_name: str
    website: str | None
    config_key: str
    provider_model_id: str
    price: Price | None
    notes: list[str]
    source_url: str | None
    performance: Performance | None


@dataclass(frozen=True)
class CompetitionResult:
    """The model's standing in one competition it has battles in."""

    slug: str
    name: str
    status: str
    category: str
    standing: Standing


@dataclass(frozen=True)
class CategoryResult:
    """The model's standing in one category (use case) it has battles in."""

    slug: str
    name: str
    mode: str
    standing: Standing


@dataclass(frozen=True)
class ArenaImage:
    """One of the model's outputs in a closed competition, for the gallery."""

    image_name: str
    competition_slug: str
    competition_name: str
    prompt: str
    width: int | None
    height: int | None
    standing: Standing | None


@dataclass(frozen=True)
class CuratedExample:
    """A curated gallery example: number ``n`` (from 1) and its prompt."""

    n: int
    prompt: str


@dataclass
class ModelPage:
    """Everything ``/models/<id>`` shows, in the reference page's order."""

    model: Model
    parameter_groups: list[ParameterGroup]
    offerings: list[Offering]
    cheapest: Price | None
    builtin_performance: Performance | None
    all_performance: Performance | None
    overall: Standing | None
    competitions: list[CompetitionResult]
    categories: list[CategoryResult]
    curated: list[CuratedExample]
    arena_images: list[ArenaImage]
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def provider_names(self) -> list[str]:
        return [o.provider_name for o in self.offerings]


def _standing(row: dict[str, Any]) -> Standing:
    return Standing(
        elo=row["elo"],
        wins=row["wins"],
        losses=row["losses"],
        ties=row["ties"],
        battles=row["battles"],
        rank=row["rank"],
        rank_of=row["rank_of"],
    )


def _standings_in(session: Session, kind: str, model_id: int) -> dict[int, Standing]:
    """The model's standing in every scope of ``kind`` where it has battles, by target id."""
    target = Scope.competition_id if kind == "competition" else Scope.category_id
    scopes = session.execute(
        select(Scope.id, target)
        .join(Rating, Rating.scope_id == Scope.id)
        .where(Scope.kind == kind, Rating.model_id == model_id, Rating.battles > 0)
    ).all()
    out = {}
    for scope_id, target_id in scopes:
        row = next(r for r in live_rows(session, scope_id) if r["model_pk"] == model_id)
        out[target_id] = _standing(row)
    return out


def generation_performance(
    session: Session, model_id: int
) -> tuple[dict[str, Performance], Performance | None]:
    """What the outputs table says about a model's generations.

    Returns:
        Per provider slug (``fal``, ``builtin``…): images made, failures and p50 latency;
        and the same for all generations together (None when there are none). Success rate
        is done / (done + failed). A failure counts under the provider its output records;
        an output that failed on every route records none and counts only in the total.
    """
    rows = session.execute(
        select(Output.provider, Output.status, Output.latency_ms).where(
            Output.model_id == model_id, Output.status.in_(("done", "failed"))
        )
    ).all()
    per_provider = {
        provider: _performance(provider, [r for r in rows if r.provider == provider])
        for provider in sorted({r.provider for r in rows if r.provider})
    }
    return per_provider, (_performance("all", rows) if rows else None)


def _performance(provider: str, rows: list[Any]) -> Performance:
    latencies = [r.latency_ms for r in rows if r.status == "done" and r.latency_ms is not None]
    return Performance(
        provider=provider,
        images=sum(1 for r in rows if r.status == "done"),
        failed=sum(1 for r in rows if r.status == "failed"),
        p50_latency_ms=round(statistics.median(latencies)) if latencies else None,
    )


def _arena_images(
    session: Session, model_id: int, standings: dict[int, Standing]
) -> list[ArenaImage]:
    """The model's finished, visible outputs in closed competitions, in competition order."""
    rows = session.execute(
        select(
            Output.image_name,
            Output.width,
            Output.height,
            Competition.id,
            Competition.slug,
            Competition.name,
            Prompt.text,
        )
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(Competition, Competition.id == Prompt.competition_id)
        .where(
            Output.model_id == model_id,
            Output.status == "done",
            Output.hidden.is_(False),
            Competition.status == "closed",
        )
        .order_by(Competition.id, Prompt.position)
    ).all()
    return [
        ArenaImage(
            image_name=r.image_name,
            competition_slug=r.slug,
            competition_name=r.name,
            prompt=r.text,
            width=r.width,
            height=r.height,
            standing=standings.get(r.id),
        )
        for r in rows
    ]


def model_page(session: Session, slug: str) -> ModelPage:
    """The view-model of one model's page.

    Competitions and categories are listed where the model has at least one battle (drafts
    left out), in the order they were created, each with its live Elo, record and rank.
    Gallery images of competitions are listed only for closed competitions.

    Raises:
        NotFound: no model has this slug.
    """
    model = get_model(session, slug)
    groups = [
        ParameterGroup(key, title, [p for p in model.parameters if p.group == key])
        for key, title in GROUP_TITLES.items()
    ]
    performance, total = generation_performance(session, model.id)
    offerings = [
        Offering(
            provider=o.provider.slug,
            provider_name=o.provider.name,
            website=o.provider.website,
            config_key=o.config_key,
            provider_model_id=o.provider_model_id,
            price=offering_price(o),
            notes=list(o.notes or []),
            source_url=o.source_url,
            performance=performance.get(o.provider.slug),
        )
        for o in model.offerings
    ]
    by_competition = _standings_in(session, "competition", model.id)
    competitions = [
        CompetitionResult(c.slug, c.name, c.status, category, by_competition[c.id])
        for c, category in session.execute(
            select(Competition, Category.name)
            .join(Category, Category.id == Competition.category_id)
            .where(Competition.id.in_(by_competition), Competition.status != "draft")
            .order_by(Competition.id)
        ).all()
    ]
    by_category = _standings_in(session, "category", model.id)
    categories = [
        CategoryResult(c.slug, c.name, c.mode, by_category[c.id])
        for c in session.scalars(
            select(Category).where(Category.id.in_(by_category)).order_by(Category.id)
        )
    ]
    return ModelPage(
        model=model,
        parameter_groups=[g for g in groups if g.parameters],
        offerings=offerings,
        cheapest=cheapest([o.price for o in offerings]),
        builtin_performance=performance.get(BUILTIN),
        all_performance=total,
        overall=overall_standings(session).get(model.slug),
        competitions=competitions,
        categories=categories,
        curated=[CuratedExample(i, p) for i, p in enumerate(model.curated_prompts or [], 1)],
        arena_images=_arena_images(session, model.id, by_competition),
        about=dict(model.about or {}),
    )


def model_created(model: Model) -> int:
    """Unix seconds of the model row's creation (the OpenAI ``created`` field)."""
    created = model.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return int(created.timestamp())


# --- gallery images ---------------------------------------------------------------------------


def curated_image(session: Session, media_dir: str | Path, slug: str, n: int) -> Path:
    """The PNG of curated example ``n`` (from 1) of a model, rendered once and cached.

    The offline builtin stand-in renders the prompt (seed 0, 512x512); the file lives under
    ``<media>/gallery/<slug>/`` and its name carries a hash of the prompt, so an edited
    prompt gets a fresh image.

    Raises:
        NotFound: no such model, or it has no curated example ``n``.
    """
    model = get_model(session, slug)
    prompts = model.curated_prompts or []
    if not 1 <= n <= len(prompts):
        raise NotFound(f"{slug} has no curated example {n}", field="n")
    prompt = prompts[n - 1]
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
    path = Path(media_dir) / "gallery" / model.slug / f"{n}-{digest}.png"
    if not path.exists():
        data = render_png(
            model.slug, prompt, seed=GALLERY_SEED, width=GALLERY_SIZE, height=GALLERY_SIZE
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name: two requests may render the same image at once.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class StoredImage:
    """A stored output file and its format."""

    path: Path
    format: str


def closed_output_image(
    session: Session, media_dir: str | Path, slug: str, image_name: str
) -> StoredImage:
    """The stored file of one of the model's outputs, only if its competition is closed.

    Raises:
        NotFound: no such output of this model, not finished, hidden by a moderator, or its
            competition is not closed (outputs of open competitions stay anonymous).
    """
    if not (storable(slug) and storable(image_name)):
        raise NotFound("no such gallery image", field="image")
    row = session.execute(
        select(Output.image_name, Output.format)
        .join(Model, Model.id == Output.model_id)
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(Competition, Competition.id == Prompt.competition_id)
        .where(
            Model.slug == slug,
            Output.image_name == image_name,
            Output.status == "done",
            Output.hidden.is_(False),
            Competition.status == "closed",
        )
    ).first()
    if row is None:
        raise NotFound("no such gallery image", field="image")
    path = image_path(media_dir, row.image_name)
    if not path.exists():
        raise NotFound("the image file is missing", field="image")
    return StoredImage(path, row.format or row.image_name.rpartition(".")[2])
