"""The model catalog: /models and /models/<id> pages, gallery images, and the models API.

``bp`` serves the pages and gallery images; ``api_bp`` serves the OpenAI-style model list
and model objects under ``/v1/models`` and ``/openai/v1/models`` (errors there are JSON).
The catalog's results table is one fragment serving both the page and the htmx swap.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup, escape

from arena.errors import ValidationError
from arena.services.catalog import gallery, listing, models_api
from arena.services.catalog.model_page import model_page
from arena.services.catalog.pricing import offering_price
from arena.web.db import get_session
from arena.web.htmx import is_htmx, vary_on_htmx

bp = Blueprint("catalog", __name__)
api_bp = Blueprint("models_api", __name__)

FILTERS = ("creator", "family", "tag", "status")
MAX_QUERY = 200
#: What ``?schema=`` may say (any letter case).
SCHEMA_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@bp.app_template_filter("bold_markdown")
def bold_markdown(text: str | None) -> Markup:
    """Escape ``text``, then turn ``**x**`` into ``<strong>x</strong>`` (nothing else)."""
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text or ""))))


def _api_base_url() -> str:
    """This server's OpenAI-compatible base URL, as clients should configure it."""
    return request.url_root + "openai/v1"


# --- pages ------------------------------------------------------------------------------------


@bp.get("/models")
def index() -> Any:
    """The catalog: ``?q=`` search, creator/family/tag/status filters, ``?sort=rating|name``."""
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    q = request.args.get("q", "").strip()[:MAX_QUERY]
    sort = request.args.get("sort", "rating")
    if sort not in listing.SORTS:
        sort = "rating"
    page = listing.catalog_page(get_session(), q=q, sort=sort, **chosen)
    context = {
        "rows": page.rows,
        "q": q,
        "chosen": chosen,
        "sort": sort,
        "filters": page.filters,
        "filtered": bool(q or any(chosen.values())),
    }
    template = "models/_results.html" if is_htmx() else "models/index.html"
    return vary_on_htmx(render_template(template, **context))


@bp.get("/models/<model_id>")
def detail(model_id: str) -> str:
    """One model's page, carrying every fact of docs/reference-model-page.md."""
    page = model_page(get_session(), model_id)
    return render_template(
        "models/detail.html",
        page=page,
        model=page.model,
        base_url=_api_base_url(),
    )


@bp.get("/models/<model_id>/gallery/<int:n>.png")
def curated_image(model_id: str, n: int) -> Response:
    """Curated example ``n``, rendered by the offline builtin stand-in and cached."""
    path = gallery.curated_image(get_session(), current_app.config["MEDIA_DIR"], model_id, n)
    return send_file(path, mimetype="image/png", max_age=86400)


@bp.get("/models/<model_id>/arena/<image_name>")
def arena_image(model_id: str, image_name: str) -> Response:
    """A model's output in a closed competition; 404 while its competition is not closed."""
    image = gallery.closed_output_image(
        get_session(), current_app.config["MEDIA_DIR"], model_id, image_name
    )
    return send_file(image.path, mimetype=f"image/{image.format}", max_age=3600)


# --- the models API ------------------------------------------------------------------------


def _model_json(entry: models_api.ModelEntry) -> dict[str, Any]:
    """One model in the OpenAI list shape, with the catalog's own fields after the standard ones
    (and its ``schema`` last when the entry carries one)."""
    model, standing = entry.model, entry.standing
    providers = []
    for offering in model.offerings:
        price = offering_price(offering)
        providers.append(
            {
                "provider": offering.provider.slug,
                "provider_name": offering.provider.name,
                "config_key": offering.config_key,
                "provider_model_id": offering.provider_model_id,
                "pricing": None
                if price is None
                else {"unit": price.unit, "usd": float(price.usd), "label": price.label},
                "notes": list(offering.notes or []),
                "source_url": offering.source_url,
            }
        )
    body: dict[str, Any] = {
        "id": model.slug,
        "object": "model",
        "created": models_api.model_created(model),
        "owned_by": model.creator or "unknown",
        "name": model.name,
        "summary": model.summary,
        "creator": model.creator,
        "family": model.family,
        "status": model.status,
        "input_modalities": list(model.input_modalities or []),
        "output_modalities": list(model.output_modalities or []),
        "modes": list(model.modes or []),
        "tags": list(model.tags or []),
        "providers": providers,
        "arena": None
        if standing is None
        else {
            "elo": standing.elo,
            "wins": standing.wins,
            "losses": standing.losses,
            "ties": standing.ties,
            "battles": standing.battles,
            "rank": standing.rank,
            "rank_of": standing.rank_of,
        },
        "url": url_for("catalog.detail", model_id=model.slug, _external=True),
    }
    if entry.schema is not None:
        body["schema"] = entry.schema
    return body


@api_bp.get("/openai/v1/models")
@api_bp.get("/v1/models")
def list_models() -> Any:
    """Every model, as an OpenAI model list: ``{"object": "list", "data": [...]}``."""
    data = [_model_json(entry) for entry in models_api.model_entries(get_session())]
    return jsonify({"object": "list", "data": data})


@api_bp.get("/openai/v1/models/<model_id>")
@api_bp.get("/v1/models/<model_id>")
def get_model(model_id: str) -> Any:
    """One model object; ``?schema=true`` adds its compiled parameter schema (JSON Schema)."""
    flag = request.args.get("schema", "false").lower()
    if flag not in SCHEMA_FLAGS:
        raise ValidationError("schema must be true or false (or 1/0, yes/no)", field="schema")
    entry = models_api.model_entry(get_session(), model_id, schema=SCHEMA_FLAGS[flag])
    return jsonify(_model_json(entry))
