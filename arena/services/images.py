"""The OpenAI-compatible image generation use case: validate, size, route, encode, record.

A request is checked against the model's compiled parameter schema, its size resolved
(``arena.sizes.resolve_size``), each image made through the router (configured offerings
cheapest first, falling back to the next and finally to the offline builtin stand-in),
re-encoded to the requested format, stored under an opaque name and its cost recorded in
the key's usage log.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from arena.errors import GenerationError, NotFound, ValidationError, quoted
from arena.generation import router
from arena.generation.base import ImageRequest, ProviderError
from arena.generation.encoding import OUTPUT_FORMATS, encode
from arena.media import new_image_name, write_image
from arena.models import ApiKey, ApiUsage, Model
from arena.services.catalog.listing import get_model
from arena.services.catalog.model_page import parameter_schema
from arena.sizes import resolve_size

#: Parameters the gateway handles itself; the rest go to the provider.
GATEWAY_PARAMS = {
    "model", "prompt", "negative_prompt", "seed", "size", "aspect_ratio", "resolution",
    "response_format", "output_format", "output_compression", "n",
}  # fmt: skip


@dataclass(frozen=True)
class Generated:
    """One image of a response."""

    name: str
    data: bytes
    revised_prompt: str


@dataclass(frozen=True)
class GenerationResult:
    images: list[Generated]
    response_format: str
    provider: str
    cost_usd: Decimal | None
    created: int


def _model(session: Session, body: Mapping[str, Any]) -> Model:
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise ValidationError(
            "model is required: a model id such as hidream-i1-fast", field="model"
        )
    try:
        return get_model(session, model_id)
    except NotFound:
        error = NotFound(
            f"The model {quoted(model_id)} does not exist; see GET /openai/v1/models",
            field="model",
        )
        error.code = "model_not_found"
        raise error from None


def _shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters: schema messages quote the whole bad value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validate(model: Model, body: Mapping[str, Any]) -> None:
    validator = Draft202012Validator(parameter_schema(model))
    errors = sorted(validator.iter_errors(dict(body)), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        field = first.path[0] if first.path else None
        if first.validator == "additionalProperties":
            extra = sorted(set(body) - set(parameter_schema(model)["properties"]))
            field = extra[0] if extra else None
            message = f"Unknown parameter {quoted(field)} for model {model.slug}"
        elif first.validator == "required":
            field = "prompt"
            message = "prompt is required"
        else:
            message = f"Invalid value for {quoted(field)}: {_shorten(first.message)}"
        raise ValidationError(message, field=field)


def generate_images(
    session: Session, config: Mapping[str, Any], api_key: ApiKey, body: Any
) -> GenerationResult:
    """Serve one images/generations request and record it in the key's usage log.

    Raises:
        ValidationError: the body is not an object, or breaks the model's schema (the
            message and ``field`` name the parameter).
        NotFound: unknown model (code ``model_not_found``).
        GenerationError: every provider failed (502).
    """
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    model = _model(session, body)
    body = {k: v for k, v in body.items() if k != "model"}
    _validate(model, body)
    try:
        width, height = resolve_size(
            body.get("size"), body.get("aspect_ratio"), body.get("resolution")
        )
    except ValueError as exc:
        text = str(exc)
        if text.startswith("resolution"):
            field = "resolution"
        elif body.get("aspect_ratio") and not body.get("size"):
            field = "aspect_ratio"
        else:
            field = "size"
        raise ValidationError(_shorten(text), field=field) from None
    fmt = body.get("output_format", "png")
    response_format = body.get("response_format", "url")
    # JSON Schema counts 2.0 as an integer: the checked whole numbers become ints here.
    n = int(body.get("n", 1))
    seed = body.get("seed")
    base_seed = int(seed) if seed is not None else random.SystemRandom().randrange(2**31)
    compression = body.get("output_compression")
    if compression is not None:
        compression = int(compression)
    extra = {k: v for k, v in body.items() if k not in GATEWAY_PARAMS}
    offerings = [
        router.Route(
            provider=o.provider.slug,
            provider_model_id=o.provider_model_id,
            offering_id=o.id,
            pricing_unit=o.pricing_unit,
            price_usd=o.price_usd,
        )
        for o in model.offerings
    ]
    routes = router.plan_routes(model.slug, offerings, config, width=width, height=height)
    started = time.perf_counter()
    images: list[Generated] = []
    total_cost: Decimal | None = Decimal("0")
    providers: list[str] = []
    try:
        for i in range(n):
            request = ImageRequest(
                model_id=model.slug,
                provider_model_id=model.slug,
                prompt=body["prompt"],
                negative_prompt=body.get("negative_prompt"),
                seed=base_seed + i,
                width=width,
                height=height,
                extra=extra,
            )
            routed = router.generate(
                request,
                routes,
                config,
                retries=1,
                backoff_s=config.get("GENERATION_BACKOFF_S", 0.5),
            )
            data = encode(routed.result.data, fmt, compression)
            name = new_image_name("jpg" if fmt == "jpeg" else fmt)
            write_image(config["MEDIA_DIR"], name, data)
            images.append(Generated(name, data, body["prompt"]))
            providers.append(routed.route.provider)
            if total_cost is not None:
                total_cost = None if routed.cost_usd is None else total_cost + routed.cost_usd
    except ProviderError as exc:
        _record(
            session,
            api_key,
            model,
            providers,
            len(images),
            width,
            height,
            None,
            started,
            502,
            str(exc),
        )
        raise GenerationError(f"no provider could make the image: {exc}") from None
    provider = providers[0] if len(set(providers)) == 1 else ",".join(sorted(set(providers)))
    _record(session, api_key, model, providers, n, width, height, total_cost, started, 200, None)
    return GenerationResult(images, response_format, provider, total_cost, int(time.time()))


def _record(
    session: Session,
    api_key: ApiKey,
    model: Model,
    providers: list[str],
    images: int,
    width: int,
    height: int,
    cost: Decimal | None,
    started: float,
    status: int,
    error: str | None,
) -> None:
    session.add(
        ApiUsage(
            api_key_id=api_key.id,
            model_id=model.id,
            provider=",".join(sorted(set(providers))) or None,
            images=images,
            megapixels=images * width * height / 1_000_000,
            cost_usd=cost,
            latency_ms=round((time.perf_counter() - started) * 1000),
            status=status,
            error=error,
        )
    )
    session.commit()


def media_type(name: str) -> str:
    """The MIME type of a stored API image by its extension."""
    ext = name.rsplit(".", 1)[-1]
    return OUTPUT_FORMATS["jpeg" if ext == "jpg" else ext][1]
