"""The admin's catalog: models, their provider offerings, and categories.

Each public function that writes is one unit of work: every field is checked first
(``ValidationError`` naming the field), duplicates are refused (``Conflict`` naming the
field), and then everything is committed at once, or nothing. Facts nobody entered stay
empty (``None``), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from arena.errors import Conflict, NotFound, ValidationError
from arena.models import (
    Category,
    Competition,
    CompetitionModel,
    Model,
    ModelParameter,
    Provider,
    ProviderOffering,
    Scope,
)
from arena.models.catalog import MODEL_STATUSES, PRICING_UNITS
from arena.services.admin import forms as f
from arena.services.rating_rows import ensure_scopes_and_ratings
from arena.services.scopes import scope_key
from arena.services.seeding import common_parameters

#: Model columns that hold lists, edited as comma-separated words.
MODEL_WORD_LISTS = ("input_modalities", "output_modalities", "modes", "tags")
#: Longest free text the admin accepts in a Text column.
LONG_TEXT = 10_000


# --- models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    """One model in the admin's list."""

    slug: str
    name: str
    creator: str | None
    family: str | None
    status: str
    offerings: int
    competitions: int


def list_models(session: Session, q: str = "") -> list[ModelRow]:
    """Every model by slug, or those whose slug, name, creator or family contains ``q``."""
    offerings = (
        select(ProviderOffering.model_id, func.count().label("n"))
        .group_by(ProviderOffering.model_id)
        .subquery()
    )
    entries = (
        select(CompetitionModel.model_id, func.count().label("n"))
        .group_by(CompetitionModel.model_id)
        .subquery()
    )
    query = (
        select(
            Model.slug,
            Model.name,
            Model.creator,
            Model.family,
            Model.status,
            func.coalesce(offerings.c.n, 0),
            func.coalesce(entries.c.n, 0),
        )
        .outerjoin(offerings, offerings.c.model_id == Model.id)
        .outerjoin(entries, entries.c.model_id == Model.id)
        .order_by(Model.slug)
    )
    q = q.strip().lower()
    if q:
        pattern = f"%{q}%"
        query = query.where(
            or_(
                func.lower(Model.slug).like(pattern),
                func.lower(Model.name).like(pattern),
                func.lower(func.coalesce(Model.creator, "")).like(pattern),
                func.lower(func.coalesce(Model.family, "")).like(pattern),
            )
        )
    return [ModelRow(*row) for row in session.execute(query)]


def get_model(session: Session, slug: str) -> Model:
    """The model with its offerings (and their providers) loaded.

    Raises:
        NotFound: no model has this slug.
    """
    model = session.scalar(
        select(Model)
        .where(Model.slug == slug)
        .options(selectinload(Model.offerings).selectinload(ProviderOffering.provider))
    )
    if model is None:
        raise NotFound(f"There is no model called {slug!r}.", field="model")
    return model


def model_form(model: Model | None) -> dict[str, str]:
    """The model's values as the edit form shows them (empty for a new model)."""
    if model is None:
        return {"status": "active", "input_modalities": "text", "output_modalities": "image"}
    values = {
        "slug": model.slug,
        "name": model.name,
        "summary": model.summary or "",
        "creator": model.creator or "",
        "family": model.family or "",
        "status": model.status,
        "released": model.released.isoformat() if model.released else "",
        "description": model.description or "",
        "example_prompt": model.example_prompt or "",
        "curated_prompts": "\n".join(model.curated_prompts or []),
    }
    for name in MODEL_WORD_LISTS:
        values[name] = ", ".join(getattr(model, name) or [])
    return values


def _model_values(form: f.Form) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": f.required_text(form, "name", limit=f.max_length(Model.name)),
        "summary": f.text(form, "summary", limit=f.max_length(Model.summary)),
        "creator": f.text(form, "creator", limit=f.max_length(Model.creator)),
        "family": f.text(form, "family", limit=f.max_length(Model.family)),
        "status": f.choice(form, "status", MODEL_STATUSES, default="active"),
        "released": f.date(form, "released"),
        "description": f.text(form, "description", limit=LONG_TEXT),
        "example_prompt": f.text(form, "example_prompt", limit=LONG_TEXT),
        "curated_prompts": f.line_list(form, "curated_prompts"),
    }
    for name in MODEL_WORD_LISTS:
        values[name] = f.word_list(form, name)
    return values


def create_model(session: Session, form: f.Form, *, seeds_dir: str | Path) -> Model:
    """Add a model with the facts given and the parameters every model accepts.

    Args:
        form: ``slug``, ``name`` (required) and the optional facts of ``model_form``.
        seeds_dir: where ``parameters.yaml`` (the common parameters) lives.

    Raises:
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the slug is taken (``field="slug"``).
    """
    slug = f.slug(form, "slug", limit=f.max_length(Model.slug))
    values = _model_values(form)
    with f.unit_of_work(session):
        if session.scalar(select(Model.id).where(Model.slug == slug)) is not None:
            raise Conflict(f"A model with the slug {slug!r} already exists.", field="slug")
        model = Model(slug=slug, **values)
        model.parameters = [
            ModelParameter(**p, position=i)
            for i, p in enumerate(common_parameters(Path(seeds_dir)))
        ]
        session.add(model)
    return model


def update_model(session: Session, slug: str, form: f.Form) -> Model:
    """Change a model's facts (its slug, the public id, stays).

    Raises:
        NotFound: no such model.
        ValidationError: a field is malformed (named in ``field``).
    """
    model = get_model(session, slug)
    values = _model_values(form)
    with f.unit_of_work(session):
        for name, value in values.items():
            setattr(model, name, value)
    return model


def set_model_status(session: Session, slug: str, status: str) -> Model:
    """Mark a model ``active`` or ``deprecated`` (shown in the catalog and its API).

    Raises:
        NotFound: no such model.
        ValidationError: another status.
    """
    model = get_model(session, slug)
    value = f.choice({"status": status}, "status", MODEL_STATUSES)
    with f.unit_of_work(session):
        model.status = value
    return model


# --- provider offerings ----------------------------------------------------------------------


def list_providers(session: Session) -> list[Provider]:
    """Every provider by slug."""
    return list(session.scalars(select(Provider).order_by(Provider.slug)))


def get_offering(session: Session, model_slug: str, offering_id: int) -> ProviderOffering:
    """One of the model's offerings, with its model and provider loaded.

    Raises:
        NotFound: no such offering of this model.
    """
    offering = session.scalar(
        select(ProviderOffering)
        .join(Model, Model.id == ProviderOffering.model_id)
        .where(ProviderOffering.id == offering_id, Model.slug == model_slug)
        .options(selectinload(ProviderOffering.provider), selectinload(ProviderOffering.model))
    )
    if offering is None:
        raise NotFound(f"Model {model_slug!r} has no offering #{offering_id}.", field="offering")
    return offering


def offering_form(offering: ProviderOffering | None) -> dict[str, str]:
    """The offering's values as the form shows them (empty for a new one)."""
    if offering is None:
        return {}
    return {
        "provider": offering.provider.slug,
        "provider_model_id": offering.provider_model_id,
        "pricing_unit": offering.pricing_unit or "",
        "price_usd": "" if offering.price_usd is None else f"{offering.price_usd.normalize():f}",
        "notes": "\n".join(offering.notes or []),
        "source_url": offering.source_url or "",
    }


def _offering_values(form: f.Form) -> dict[str, Any]:
    values: dict[str, Any] = {
        "provider_model_id": f.required_text(
            form, "provider_model_id", limit=f.max_length(ProviderOffering.provider_model_id)
        ),
        "notes": f.line_list(form, "notes"),
        "source_url": f.url(form, "source_url", limit=f.max_length(ProviderOffering.source_url)),
    }
    unit = (form.get("pricing_unit") or "").strip() or None
    if unit is not None:
        unit = f.choice(form, "pricing_unit", PRICING_UNITS)
    usd = f.price(form, "price_usd")
    if unit is None and usd is not None:
        raise ValidationError(
            "Choose whether the price is per image or per megapixel.", field="pricing_unit"
        )
    if unit is not None and usd is None:
        raise ValidationError(
            "Enter the price in USD, or set the unit to 'unknown' when the price is not known.",
            field="price_usd",
        )
    values["pricing_unit"], values["price_usd"] = unit, usd
    return values


def create_offering(session: Session, model_slug: str, form: f.Form) -> ProviderOffering:
    """Offer a model through a provider (one offering per model and provider).

    Args:
        form: ``provider`` (slug), ``provider_model_id``, optional ``pricing_unit`` with
            ``price_usd`` (both or neither: an unknown price stays unknown), ``notes`` (one
            per line) and ``source_url``.

    Raises:
        NotFound: no such model.
        ValidationError: a field is malformed, or the provider is unknown.
        Conflict: the model already has an offering from this provider (``field="provider"``).
    """
    model = get_model(session, model_slug)
    provider_slug = f.required_text(form, "provider", limit=f.max_length(Provider.slug))
    values = _offering_values(form)
    provider = session.scalar(select(Provider).where(Provider.slug == provider_slug))
    if provider is None:
        raise ValidationError(f"There is no provider called {provider_slug!r}.", field="provider")
    config_key = f"{provider.slug}/{model.slug}"
    with f.unit_of_work(session):
        taken = session.scalar(
            select(ProviderOffering.id).where(
                or_(
                    (ProviderOffering.model_id == model.id)
                    & (ProviderOffering.provider_id == provider.id),
                    ProviderOffering.config_key == config_key,
                )
            )
        )
        if taken is not None:
            raise Conflict(
                f"{model.slug} already has an offering from {provider.slug}; edit that one.",
                field="provider",
            )
        offering = ProviderOffering(model=model, provider=provider, config_key=config_key, **values)
        session.add(offering)
    return offering


def update_offering(
    session: Session, model_slug: str, offering_id: int, form: f.Form
) -> ProviderOffering:
    """Change an offering's provider model id, price, notes or source (not its provider).

    Raises:
        NotFound: no such offering of this model.
        ValidationError: a field is malformed.
    """
    offering = get_offering(session, model_slug, offering_id)
    values = _offering_values(form)
    with f.unit_of_work(session):
        for name, value in values.items():
            setattr(offering, name, value)
    return offering


# --- categories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    """One category in the admin's list."""

    slug: str
    name: str
    mode: str
    description: str | None
    competitions: int


def list_categories(session: Session) -> list[CategoryRow]:
    """Every category by name, with how many competitions it holds."""
    counts = (
        select(Competition.category_id, func.count().label("n"))
        .group_by(Competition.category_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Category.slug,
            Category.name,
            Category.mode,
            Category.description,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.name, Category.slug)
    )
    return [CategoryRow(*row) for row in rows]


def get_category(session: Session, slug: str) -> Category:
    """The category with this slug.

    Raises:
        NotFound: no such category.
    """
    category = session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound(f"There is no category called {slug!r}.", field="category")
    return category


def category_form(category: Category | None) -> dict[str, str]:
    """The category's values as the form shows them (defaults for a new one)."""
    if category is None:
        return {"mode": "Text-to-Image"}
    return {
        "slug": category.slug,
        "name": category.name,
        "mode": category.mode,
        "description": category.description or "",
    }


def _category_values(form: f.Form) -> dict[str, Any]:
    return {
        "slug": f.slug(form, "slug", limit=f.max_length(Category.slug)),
        "name": f.required_text(form, "name", limit=f.max_length(Category.name)),
        "mode": f.text(form, "mode", limit=f.max_length(Category.mode)) or "Text-to-Image",
        "description": f.text(form, "description", limit=LONG_TEXT),
    }


def _require_free_category_slug(session: Session, slug: str, own_id: int | None) -> None:
    other = session.scalar(select(Category.id).where(Category.slug == slug))
    if other is not None and other != own_id:
        raise Conflict(f"A category with the slug {slug!r} already exists.", field="slug")


def create_category(session: Session, form: f.Form) -> Category:
    """Add a category (and its leaderboard scope).

    Raises:
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the slug is taken (``field="slug"``).
    """
    values = _category_values(form)
    with f.unit_of_work(session):
        _require_free_category_slug(session, values["slug"], None)
        category = Category(**values)
        session.add(category)
        session.flush()
        ensure_scopes_and_ratings(session)
    return category


def update_category(session: Session, slug: str, form: f.Form) -> Category:
    """Change a category; a new slug renames its leaderboard scope with it.

    Raises:
        NotFound: no such category.
        ValidationError: a field is malformed (named in ``field``).
        Conflict: the new slug is taken (``field="slug"``).
    """
    category = get_category(session, slug)
    values = _category_values(form)
    with f.unit_of_work(session):
        _require_free_category_slug(session, values["slug"], category.id)
        if values["slug"] != category.slug:
            session.execute(
                update(Scope)
                .where(Scope.category_id == category.id)
                .values(key=scope_key("category", values["slug"]))
            )
        for name, value in values.items():
            setattr(category, name, value)
    return category
