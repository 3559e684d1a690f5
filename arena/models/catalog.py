"""Catalog tables: providers, image models, their parameter schemas and provider offerings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arena.models.base import Base, utcnow

MODEL_STATUSES = ("active", "deprecated")
PARAMETER_GROUPS = ("core", "size", "output", "additional")
PARAMETER_TYPES = ("string", "integer", "number", "boolean")
PRICING_UNITS = ("per_megapixel", "per_image")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Provider(Base):
    """A service that serves models (``fal``, ``replicate``, ``openai``, ``builtin``)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(500))


class Model(Base):
    """A text-to-image model, identified publicly by its slug (``hidream-i1-fast``)."""

    __tablename__ = "models"
    __table_args__ = (CheckConstraint(_in("status", MODEL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))
    creator: Mapped[str | None] = mapped_column(String(200))
    #: The licence of the weights as published ("Apache-2.0", "Proprietary"); None = unknown.
    license: Mapped[str | None] = mapped_column(String(120))
    family: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="active")
    input_modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    output_modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    released: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    about: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    example_prompt: Mapped[str | None] = mapped_column(Text)
    curated_prompts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parameters: Mapped[list[ModelParameter]] = relationship(
        back_populates="model", order_by="ModelParameter.position", cascade="all, delete-orphan"
    )
    offerings: Mapped[list[ProviderOffering]] = relationship(
        back_populates="model", order_by="ProviderOffering.id", cascade="all, delete-orphan"
    )


class ModelParameter(Base):
    """One parameter of a model's schema; ``providers`` limits a provider-only parameter."""

    __tablename__ = "model_parameters"
    __table_args__ = (
        UniqueConstraint("model_id", "name"),
        CheckConstraint(_in('"group"', PARAMETER_GROUPS), name="group"),
        CheckConstraint(_in("type", PARAMETER_TYPES), name="type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    default: Mapped[Any | None] = mapped_column(JSON)
    enum: Mapped[list[Any] | None] = mapped_column(JSON)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    providers: Mapped[list[str] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)

    model: Mapped[Model] = relationship(back_populates="parameters")


class ProviderOffering(Base):
    """A model as served by one provider, with its config key and (possibly unknown) price."""

    __tablename__ = "provider_offerings"
    __table_args__ = (
        UniqueConstraint("model_id", "provider_id"),
        CheckConstraint(
            f"pricing_unit IS NULL OR {_in('pricing_unit', PRICING_UNITS)}", name="pricing_unit"
        ),
        CheckConstraint("(pricing_unit IS NULL) = (price_usd IS NULL)", name="price_with_unit"),
        CheckConstraint("price_usd IS NULL OR price_usd >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    config_key: Mapped[str] = mapped_column(String(200), unique=True)
    provider_model_id: Mapped[str] = mapped_column(String(300))
    pricing_unit: Mapped[str | None] = mapped_column(String(20))
    price_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(500))

    model: Mapped[Model] = relationship(back_populates="offerings")
    provider: Mapped[Provider] = relationship()
