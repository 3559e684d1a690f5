"""The public gallery: /gallery (closed competitions) and /gallery/<slug>?prompt=<n>.

Images are served by the catalog's closed-output route, which refuses outputs of competitions
that are not closed; an open competition's gallery is a 404 that says why.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from arena.errors import ValidationError
from arena.services.gallery import competition_gallery, gallery_index
from arena.web.db import get_session

bp = Blueprint("gallery", __name__)


def _prompt_number() -> int | None:
    """``?prompt=<n>`` as a whole number from 1, or None when absent.

    Raises:
        ValidationError: it is not a whole number from 1.
    """
    raw = request.args.get("prompt", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 6:
        raise ValidationError("prompt must be a prompt number (1, 2, …)", field="prompt")
    return int(raw)


@bp.get("/gallery")
def index() -> str:
    """Every closed competition with images: name, category, counts and a few thumbnails."""
    return render_template("gallery/index.html", competitions=gallery_index(get_session()))


@bp.get("/gallery/<slug>")
def competition(slug: str) -> str:
    """One prompt of a closed competition across all its models, with prompt navigation."""
    page = competition_gallery(get_session(), slug, _prompt_number())
    return render_template("gallery/competition.html", gallery=page)
