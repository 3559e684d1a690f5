"""The OpenAI-compatible image endpoint under /openai/v1 (Bearer API keys)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy.orm import Session

from arena.errors import NotFound, ValidationError
from arena.media import image_path
from arena.services import api_keys, images
from arena.services.catalog.listing import get_model
from arena.services.catalog.model_page import parameter_schema
from arena.web.bodies import refuse_unknown_fields, request_json
from arena.web.db import get_session

bp = Blueprint("openai", __name__, url_prefix="/openai/v1")

#: Fields of OpenAI's image request that are accepted and ignored on purpose: ``user`` (an id
#: of the caller's end user, for OpenAI's abuse monitoring) has no bearing on the images, and
#: OpenAI clients send it when their caller sets it.
IGNORED_FIELDS = ("user",)


def _image_request(session: Session) -> dict[str, Any]:
    """The body, with the ignored fields taken out and no field the model does not take.

    A missing or unknown model is left to ``images.generate_images`` to answer.

    Raises:
        ValidationError: not a JSON object, ``user`` not a string, or fields the model does
            not take (``field`` names the first; the message lists them and the known ones).
    """
    body = request_json()
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    if not isinstance(body.pop("user", ""), str):
        raise ValidationError("user must be a string (an id of your end user)", field="user")
    slug = body.get("model")
    if isinstance(slug, str) and slug:
        try:
            model = get_model(session, slug)
        except NotFound:
            return body
        known = ("model", *parameter_schema(model)["properties"], *IGNORED_FIELDS)
        refuse_unknown_fields(body, known, taker=f"the model {model.slug}")
    return body


@bp.post("/images/generations")
def generations() -> Any:
    """Generate images: OpenAI's request and response shapes, routed to the best provider.

    Headers on success: ``X-Arena-Provider`` (who made the images) and ``X-Arena-Cost-USD``
    (their cost; ``unknown`` when a provider's price is not known).
    """
    session = get_session()
    key = api_keys.authenticate(session, request.headers.get("Authorization"))
    body = _image_request(session)
    result = images.generate_images(session, current_app.config, key, body)
    data = []
    for image in result.images:
        item: dict[str, str] = {"revised_prompt": image.revised_prompt}
        if result.response_format == "b64_json":
            item["b64_json"] = base64.b64encode(image.data).decode()
        else:
            item["url"] = url_for("openai.image_file", name=image.name, _external=True)
        data.append(item)
    response = jsonify({"created": result.created, "data": data})
    response.headers["X-Arena-Provider"] = result.provider
    response.headers["X-Arena-Cost-USD"] = (
        "unknown" if result.cost_usd is None else format(result.cost_usd.normalize(), "f")
    )
    return response


@bp.get("/images/<name>")
def image_file(name: str) -> Response:
    """An image made through the API, at its opaque URL."""
    try:
        path = image_path(current_app.config["MEDIA_DIR"], name)
    except ValueError:
        raise NotFound("no such image") from None
    if not path.exists():
        raise NotFound("no such image")
    response = Response(path.read_bytes(), mimetype=images.media_type(name))
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"
    return response
