"""Access tables: API keys for the OpenAI-compatible endpoint and their usage log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Float, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from arena.models.base import Base, utcnow


class ApiKey(Base):
    """A named API key; only its SHA-256 is stored, the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class ApiUsage(Base):
    """One call to the image endpoint: who, which model and provider, how much, how fast."""

    __tablename__ = "api_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"))
    provider: Mapped[str | None] = mapped_column(String(40))
    images: Mapped[int] = mapped_column(Integer, default=0)
    megapixels: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
