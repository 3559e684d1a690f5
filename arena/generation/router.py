"""Routing: which providers to try, in which order, for a model; with fallback on failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from arena.generation import registry
from arena.generation.base import ImageRequest, ImageResult, ProviderError
from arena.generation.builtin import BUILTIN
from arena.generation.pricing import image_cost


@dataclass(frozen=True)
class Route:
    """One way to make a model's image: a provider, its model id and its pricing."""

    provider: str
    provider_model_id: str
    offering_id: int | None = None
    pricing_unit: str | None = None
    price_usd: Decimal | None = None

    def cost(self, width: int, height: int, n: int = 1) -> Decimal | None:
        if self.provider == BUILTIN:
            return Decimal("0")
        return image_cost(self.pricing_unit, self.price_usd, width, height, n)


@dataclass(frozen=True)
class Routed:
    """An image and the route that made it, with the attempts it took and what it cost."""

    result: ImageResult
    route: Route
    attempts: int
    latency_ms: int
    cost_usd: Decimal | None


def plan_routes(
    model_id: str,
    offerings: Sequence[Route],
    config: Mapping[str, Any],
    *,
    width: int,
    height: int,
    only: str | None = None,
) -> list[Route]:
    """The routes to try for ``model_id``, best first.

    The offerings whose provider is configured, cheapest for the requested pixels first
    (unknown prices after known ones), each the fallback of the one before. Only when no
    offering is configured does the offline builtin stand-in serve the model: a real model's
    output is never silently replaced by a stand-in because its provider failed. ``only``
    restricts to one provider (``builtin`` always serves).
    """
    usable = [
        o for o in offerings if o.provider != BUILTIN and registry.is_available(o.provider, config)
    ]
    usable.sort(key=lambda r: (r.cost(width, height) is None, r.cost(width, height) or 0))
    builtin = Route(provider=BUILTIN, provider_model_id=model_id)
    if only is not None:
        return [builtin] if only == BUILTIN else [r for r in usable if r.provider == only]
    return usable or [builtin]


def generate(
    request: ImageRequest,
    routes: Sequence[Route],
    config: Mapping[str, Any],
    *,
    retries: int = 2,
    backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Routed:
    """Make one image, trying each route in order and the whole list again on failure.

    Args:
        request: the image wanted; ``provider_model_id`` is replaced per route.
        routes: from ``plan_routes``.
        retries: further passes over the routes after a failed one (retryable errors only).
        backoff_s: pause before the first retry; doubled each time, or the provider's
            Retry-After when it gave one.

    Raises:
        ProviderError: every route failed on every pass; the message lists each failure.
    """
    if not routes:
        raise ProviderError("router", "no provider can serve this model", retryable=False)
    failures: list[str] = []
    attempts = 0
    for attempt in range(retries + 1):
        wait = backoff_s * (2**attempt)
        retryable = False
        for route in routes:
            attempts += 1
            provider = registry.create(route.provider, config)
            started = time.perf_counter()
            try:
                result = provider.generate(
                    replace(request, provider_model_id=route.provider_model_id)
                )
            except ProviderError as exc:
                failures.append(str(exc))
                retryable = retryable or exc.retryable
                if exc.retry_after is not None:
                    wait = max(wait, exc.retry_after)
                continue
            latency_ms = round((time.perf_counter() - started) * 1000)
            return Routed(
                result=result,
                route=route,
                attempts=attempts,
                latency_ms=latency_ms,
                cost_usd=route.cost(result.width, result.height),
            )
        if not retryable or attempt == retries:
            break
        sleep(wait)
    error = ProviderError(
        "router", f"all {attempts} attempts failed: " + "; ".join(failures), retryable=False
    )
    error.attempts = attempts
    raise error
