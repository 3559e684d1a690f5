"""Public facts beside a model's rank: price per image, licence, open weights, median latency.

Every fact is either published in the seeds (prices of offerings, licence, tags) or measured
by the arena (latency of the outputs it generated); what is not known stays None, never guessed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from arena.models import Model, Output, ProviderOffering
from arena.services.catalog.pricing import cheapest, offering_price

#: The licence the seeds give a model served only by closed APIs.
PROPRIETARY = "Proprietary"
#: Tags that say whether a model's weights are published.
OPEN_TAG = "open-weights"
CLOSED_TAGS = ("proprietary", "closed")


@dataclass(frozen=True)
class ModelFacts:
    """What is publicly known about one model, beside its rank."""

    model_id: int  # models.id
    price_usd: Decimal | None  # cheapest published cost of one 1024x1024 image, None = unknown
    price_label: str | None  # as published, e.g. "$0.025/image" or "$0.010/megapixel"
    license: str | None  # licence name from the seeds, None = unknown
    open_weights: bool | None  # True: tagged open-weights; False: proprietary; None = unknown
    median_latency_ms: float | None  # median latency_ms of the model's done outputs
    latency_providers: tuple[str, ...]  # the providers those outputs came from, sorted


def open_weights(tags: Iterable[str], license: str | None) -> bool | None:
    """Whether a model's weights are published, as its seeds say.

    True when tagged ``open-weights``; False when tagged ``proprietary``/``closed`` or its
    licence is ``Proprietary`` (served only by closed APIs); None otherwise (unknown).
    """
    tags = set(tags)
    if OPEN_TAG in tags:
        return True
    if tags.intersection(CLOSED_TAGS) or license == PROPRIETARY:
        return False
    return None


def _median(counts: dict[int, int]) -> float:
    """The median of values given as ``{value: how many times}``."""
    values = [value for value in sorted(counts) for _ in range(counts[value])]
    return float(statistics.median(values))


def _latencies(session: Session, ids: list[int]) -> dict[int, tuple[float, tuple[str, ...]]]:
    """``{model pk: (median latency in ms, providers)}`` of the done outputs with a latency.

    One grouped query (model, latency, provider → count), the median taken in Python, so
    SQLite and PostgreSQL answer the same.
    """
    rows = session.execute(
        select(Output.model_id, Output.latency_ms, Output.provider, func.count())
        .where(
            Output.model_id.in_(ids),
            Output.status == "done",
            Output.latency_ms.is_not(None),
        )
        .group_by(Output.model_id, Output.latency_ms, Output.provider)
    ).all()
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    providers: dict[int, set[str]] = defaultdict(set)
    for model_id, latency, provider, n in rows:
        counts[model_id][latency] += n
        if provider:
            providers[model_id].add(provider)
    return {
        model_id: (_median(by_value), tuple(sorted(providers[model_id])))
        for model_id, by_value in counts.items()
    }


def model_facts(session: Session, model_ids: Iterable[int]) -> dict[int, ModelFacts]:
    """The public facts of the given models.

    Args:
        model_ids: ``models.id`` values; ids of no model are left out of the result.

    Returns:
        ``{models.id: ModelFacts}``. Price: the cheapest published offering by the cost of one
        1024x1024 image (``arena.services.catalog.pricing``); latency: the median over the
        model's done outputs that recorded one. Unknown facts are None (providers empty).
    """
    ids = sorted(set(model_ids))
    if not ids:
        return {}
    models = session.scalars(
        select(Model)
        .where(Model.id.in_(ids))
        .options(selectinload(Model.offerings).selectinload(ProviderOffering.provider))
    ).all()
    latencies = _latencies(session, ids)
    facts = {}
    for model in models:
        price = cheapest([offering_price(o) for o in model.offerings])
        median, providers = latencies.get(model.id, (None, ()))
        facts[model.id] = ModelFacts(
            model_id=model.id,
            price_usd=price.per_image_usd if price else None,
            price_label=price.label if price else None,
            license=model.license,
            open_weights=open_weights(model.tags or (), model.license),
            median_latency_ms=median,
            latency_providers=providers,
        )
    return facts
