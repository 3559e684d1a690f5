"""One model's page: parameters and schema, offerings, performance, standings, arena images."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Category, Competition, Model, ModelParameter, Output, Prompt, Rating, Scope
from arena.services.catalog.listing import Standing, get_model
from arena.services.catalog.pricing import Price, cheapest, offering_price
from arena.services.leaderboards.boards import published_ranks
from arena.services.scopes import OVERALL

#: Titles of the parameter groups, in page order (the headings of docs/reference-model-page.md).
GROUP_TITLES = {
    "core": "Core Parameters",
    "size": "Size & Layout",
    "output": "Output & Format",
    "additional": "Additional Parameters",
}
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BUILTIN = "builtin"


def _number(value: float | None) -> int | float | None:
    """Whole-number bounds as ints, so a bound reads ``minimum: 0``, not ``minimum: 0.0``."""
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
        model: a model with its ``parameters`` loaded (see ``listing.get_model``).
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
        """Done / (done + failed); None without attempts."""
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
    """Everything ``/models/<id>`` shows, in the order of docs/reference-model-page.md."""

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
        """The offering providers' display names, in offering order."""
        return [o.provider_name for o in self.offerings]


@dataclass(frozen=True)
class _Standings:
    """A model's standings where it has battles: overall, and per competition and category
    (by their ids)."""

    overall: Standing | None
    competitions: dict[int, Standing]
    categories: dict[int, Standing]


def _standings(session: Session, model_id: int) -> _Standings:
    """The model's live Elo and record in every scope where it has battles, each with its
    place in that scope's latest published ranking: two queries, however many scopes."""
    rows = session.execute(
        select(
            Scope.id.label("scope_id"),
            Scope.kind,
            Scope.category_id,
            Scope.competition_id,
            Rating.elo,
            Rating.wins,
            Rating.losses,
            Rating.ties,
            Rating.battles,
        )
        .join(Rating, Rating.scope_id == Scope.id)
        .where(Rating.model_id == model_id, Rating.battles > 0)
    ).all()
    ranks = published_ranks(session, model_id=model_id)
    overall = None
    competitions: dict[int, Standing] = {}
    categories: dict[int, Standing] = {}
    for row in rows:
        standing = Standing.from_row(row._mapping, ranks.get((row.scope_id, model_id)))
        if row.kind == OVERALL:
            overall = standing
        elif row.kind == "competition":
            competitions[row.competition_id] = standing
        else:
            categories[row.category_id] = standing
    return _Standings(overall, competitions, categories)


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
    """The model's finished, visible outputs in closed competitions, in competition order.

    Only *closed* competitions: while a competition is open for voting nothing here links any
    of its outputs to its model.
    """
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
    left out), in the order they were created, each with its live Elo and record and its
    published rank, rank upper bound and rating interval (none while not yet ranked).
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
    standings = _standings(session, model.id)
    by_competition = standings.competitions
    competitions = [
        CompetitionResult(c.slug, c.name, c.status, category, by_competition[c.id])
        for c, category in session.execute(
            select(Competition, Category.name)
            .join(Category, Category.id == Competition.category_id)
            .where(Competition.id.in_(by_competition), Competition.status != "draft")
            .order_by(Competition.id)
        ).all()
    ]
    by_category = standings.categories
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
        overall=standings.overall,
        competitions=competitions,
        categories=categories,
        curated=[CuratedExample(i, p) for i, p in enumerate(model.curated_prompts or [], 1)],
        arena_images=_arena_images(session, model.id, by_competition),
        about=dict(model.about or {}),
    )
