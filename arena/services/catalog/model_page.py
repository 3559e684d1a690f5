"""One model's page: parameters and schema, offerings, performance, standings, arena results."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arena.models import (
    Category,
    Competition,
    CompetitionModel,
    Model,
    ModelParameter,
    Output,
    Prompt,
    Rating,
    Scope,
)
from arena.services.catalog.best_for import BestForLine, Placing, best_for
from arena.services.catalog.listing import Standing, get_model
from arena.services.catalog.pricing import Price, cheapest, offering_price
from arena.services.editions import competition_editions
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
#: Longest caption of a curated example before it is cut (at a word, with an ellipsis).
CAPTION_CHARS = 90


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
    label: str = ""  # the name with its edition when the name is shared


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
class ArenaResult:
    """The model in one public competition it is entered in or has battles in: its standing
    there (None without battles) and, once the competition is closed, its first image there
    and how many it has (an open competition's images stay anonymous: none here)."""

    slug: str
    label: str
    status: str
    category: str
    standing: Standing | None
    image: ArenaImage | None
    images: int


def excerpt(text: str, limit: int = CAPTION_CHARS) -> str:
    """``text`` if it has at most ``limit`` characters, else cut at the last whole word that
    fits, with an ellipsis: never mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"


@dataclass(frozen=True)
class CuratedExample:
    """A curated gallery example: number ``n`` (from 1), its prompt, and its caption (the
    prompt, cut at a word with an ellipsis when long)."""

    n: int
    prompt: str

    @property
    def caption(self) -> str:
        return excerpt(self.prompt)

    @property
    def cut(self) -> bool:
        """Whether the caption leaves part of the prompt out."""
        return self.caption != " ".join(self.prompt.split())


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
    arena_results: list[ArenaResult] = field(default_factory=list)
    best_for: list[BestForLine] = field(default_factory=list)

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


def _arena_results(
    session: Session,
    model_id: int,
    standings: dict[int, Standing],
    images: list[ArenaImage],
) -> list[ArenaResult]:
    """The model's result in every public competition it is entered in, has battles in or has
    images in (closed), in the order competitions were created."""
    by_slug: dict[str, list[ArenaImage]] = defaultdict(list)
    for image in images:
        by_slug[image.competition_slug].append(image)
    entered = select(CompetitionModel.competition_id).where(CompetitionModel.model_id == model_id)
    rows = session.execute(
        select(Competition.id, Competition.slug, Competition.status, Category.name)
        .join(Category, Category.id == Competition.category_id)
        .where(
            Competition.status != "draft",
            or_(
                Competition.id.in_(entered),
                Competition.id.in_(list(standings)),
                Competition.slug.in_(list(by_slug)),
            ),
        )
        .order_by(Competition.id)
    ).all()
    labels = competition_editions(session)
    results = []
    for cid, slug, status, category in rows:
        shown = by_slug.get(slug, []) if status == "closed" else []
        results.append(
            ArenaResult(
                slug=slug,
                label=labels[slug].label,
                status=status,
                category=category,
                standing=standings.get(cid),
                image=shown[0] if shown else None,
                images=len(shown),
            )
        )
    return results


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
    labels = competition_editions(session)
    competitions = [
        CompetitionResult(
            c.slug, c.name, c.status, category, by_competition[c.id], labels[c.slug].label
        )
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
    arena_images = _arena_images(session, model.id, by_competition)
    price = cheapest([o.price for o in offerings])
    return ModelPage(
        model=model,
        parameter_groups=[g for g in groups if g.parameters],
        offerings=offerings,
        cheapest=price,
        builtin_performance=performance.get(BUILTIN),
        all_performance=total,
        overall=standings.overall,
        competitions=competitions,
        categories=categories,
        curated=[CuratedExample(i, p) for i, p in enumerate(model.curated_prompts or [], 1)],
        arena_images=arena_images,
        # "Best For" is written from Arena's data (best_for.py), never taken from vendor copy.
        about={k: v for k, v in (model.about or {}).items() if k != "best_for"},
        arena_results=_arena_results(session, model.id, by_competition, arena_images),
        best_for=best_for(
            name=model.name,
            slug=model.slug,
            categories=[Placing(c.name, c.standing) for c in categories],
            competitions=[Placing(c.label, c.standing) for c in competitions],
            cheapest=price,
            license=model.license,
            open_weights="open-weights" in (model.tags or []),
            providers=list(dict.fromkeys(o.provider_name for o in offerings)),
        ),
    )
