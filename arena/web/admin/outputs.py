"""Admin output moderation: every output of a competition, hide or show each one."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, redirect, render_template, request, send_file, url_for

from arena.services.admin import outputs as admin_outputs
from arena.web.admin import auth, bp
from arena.web.db import get_session
from arena.web.htmx import is_htmx, vary_on_htmx


@bp.get("/outputs")
def outputs() -> Any:
    """A competition's outputs as a grid (``?competition=``, ``?show=``, ``?page=``)."""
    session = get_session()
    choices = admin_outputs.competition_choices(session)
    slug = request.args.get("competition") or (choices[0][0] if choices else None)
    page = None
    if slug is not None:
        page = admin_outputs.list_outputs(
            session,
            slug,
            show=request.args.get("show", "all"),
            page=request.args.get("page", 1, type=int) or 1,
        )
    return render_template("admin/outputs.html", choices=choices, page=page)


@bp.post("/outputs/<int:output_id>/hidden")
def output_hidden(output_id: int) -> Any:
    """Hide (``hidden=1``) or show (``hidden=0``) an output; the card for htmx."""
    hidden = request.form.get("hidden") == "1"
    card = admin_outputs.set_hidden(get_session(), output_id, hidden)
    if is_htmx():
        return vary_on_htmx(render_template("admin/_output_card.html", card=card))
    back = auth.safe_next(request.form.get("next")) or url_for("admin.outputs")
    return redirect(back, 303)


@bp.get("/outputs/<int:output_id>/image")
def output_image(output_id: int) -> Any:
    """Any output's image, whatever its competition's status (admins only)."""
    image = admin_outputs.output_image(get_session(), current_app.config["MEDIA_DIR"], output_id)
    response = send_file(image.path, mimetype=f"image/{image.format}", max_age=600)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@bp.get("/outputs/<int:output_id>/thumb.webp")
def output_thumbnail(output_id: int) -> Any:
    """A small WebP of any output's image, for the moderation grid (admins only)."""
    data = admin_outputs.output_thumbnail(get_session(), current_app.config["MEDIA_DIR"], output_id)
    response = Response(data, mimetype="image/webp")
    response.cache_control.private = True
    response.cache_control.max_age = 600
    return response
