"""The API's own description: the OpenAPI 3.1 document (``openapi.yaml``) at /api/openapi.json."""

from __future__ import annotations

import copy
import functools
import json
from importlib import metadata, resources
from typing import Any

import yaml
from flask import Blueprint, Response, request

bp = Blueprint("docs", __name__, url_prefix="/api")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as shipped in the package, with the package's version."""
    text = resources.files("arena.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    document["info"]["version"] = metadata.version("arena")
    return document


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document as JSON, its one server being the host that was asked."""
    document = copy.copy(openapi_document())
    document["servers"] = [{"url": request.url_root.rstrip("/"), "description": "this server"}]
    # json.dumps keeps the document's own key order (Flask's JSON provider would sort it).
    return Response(json.dumps(document, ensure_ascii=False), mimetype="application/json")
