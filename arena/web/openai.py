"""The OpenAI-compatible image endpoint under /openai/v1 (Bearer API keys)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from arena.errors import NotFound, ValidationError
from arena.media import image_path
from arena.services import api_keys, images
from arena.web.bodies import request_json
from arena.web.db import get_session

bp = Blueprint("openai", __name__, url_prefix="/openai/v1")


@bp.post("/images/generations")
def generations() -> Any:
    """Generate images: OpenAI's request and response shapes, routed to the best provider.

    Headers on success: ``X-Arena-Provider`` (who made the images) and ``X-Arena-Cost-USD``
    (their cost; ``unknown`` when a provider's price is not known).
    """
    session = get_session()
    key = api_keys.authenticate(session, request.headers.get("Authorization"))
    body = request_json()
    if body is None:
        raise ValidationError("the request body must be a JSON object")
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
