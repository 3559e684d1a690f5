"""What the OpenAI-style models API lists: each model, its overall standing, its schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from arena.models import Model
from arena.services.catalog.listing import Standing, all_models, get_model, overall_standings
from arena.services.catalog.model_page import parameter_schema


@dataclass(frozen=True)
class ModelEntry:
    """One model of the models API: offerings (with providers) loaded, its overall standing
    (None without battles) and, when asked for, its compiled parameter schema."""

    model: Model
    standing: Standing | None
    schema: dict[str, Any] | None = None


def model_entries(session: Session) -> list[ModelEntry]:
    """Every model by slug with its overall standing (``/v1/models``)."""
    standings = overall_standings(session)
    return [ModelEntry(m, standings.get(m.slug)) for m in all_models(session)]


def model_entry(session: Session, slug: str, *, schema: bool = False) -> ModelEntry:
    """One model with its overall standing, and its parameter schema when ``schema``.

    Raises:
        NotFound: no model has this slug.
    """
    model = get_model(session, slug)
    return ModelEntry(
        model,
        overall_standings(session).get(model.slug),
        parameter_schema(model) if schema else None,
    )


def model_created(model: Model) -> int:
    """Unix seconds of the model row's creation (the OpenAI ``created`` field)."""
    created = model.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return int(created.timestamp())
