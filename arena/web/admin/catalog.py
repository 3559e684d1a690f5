"""Admin pages for models and their provider offerings."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from arena.services.admin import catalog as admin_catalog
from arena.web.admin import bp
from arena.web.admin.forms import FORM_ERRORS, done, render_form
from arena.web.db import get_session

MAX_QUERY = 200


@bp.get("/models")
def models() -> Any:
    """Every model, or those matching ``?q=`` (slug, name, creator or family)."""
    q = request.args.get("q", "").strip()[:MAX_QUERY]
    rows = admin_catalog.list_models(get_session(), q)
    return render_form("admin/models.html", rows=rows, q=q)


@bp.route("/models/new", methods=["GET", "POST"])
def model_new() -> Any:
    """Create a model: its slug and facts; it gets the parameters every model accepts."""
    if request.method == "GET":
        return render_form("admin/model_form.html", form=admin_catalog.model_form(None), model=None)
    form = request.form.to_dict()
    try:
        model = admin_catalog.create_model(
            get_session(), form, seeds_dir=current_app.config["SEEDS_DIR"]
        )
    except FORM_ERRORS as error:
        return render_form("admin/model_form.html", error=error, form=form, model=None)
    return done(f"Model {model.slug} created.", "admin.model_edit", slug=model.slug)


@bp.route("/models/<slug>", methods=["GET", "POST"])
def model_edit(slug: str) -> Any:
    """Edit a model's facts; its offerings are listed below the form."""
    session = get_session()
    model = admin_catalog.get_model(session, slug)
    if request.method == "GET":
        form = admin_catalog.model_form(model)
        return render_form("admin/model_form.html", form=form, model=model)
    form = request.form.to_dict()
    try:
        admin_catalog.update_model(session, slug, form)
    except FORM_ERRORS as error:
        # The service rolled its unit of work back: the model is read afresh.
        model = admin_catalog.get_model(session, slug)
        return render_form("admin/model_form.html", error=error, form=form, model=model)
    return done(f"Model {slug} saved.", "admin.model_edit", slug=slug)


@bp.post("/models/<slug>/status")
def model_status(slug: str) -> Any:
    """Mark a model active or deprecated."""
    status = request.form.get("status", "")
    try:
        model = admin_catalog.set_model_status(get_session(), slug, status)
    except FORM_ERRORS as error:
        model = admin_catalog.get_model(get_session(), slug)
        form = admin_catalog.model_form(model)
        return render_form("admin/model_form.html", error=error, form=form, model=model)
    return done(f"Model {slug} is now {model.status}.", "admin.model_edit", slug=slug)


@bp.route("/models/<slug>/offerings/new", methods=["GET", "POST"])
def offering_new(slug: str) -> Any:
    """Offer the model through a provider, with its provider model id and price."""
    session = get_session()
    model = admin_catalog.get_model(session, slug)
    providers = admin_catalog.list_providers(session)
    context = {
        "model": model,
        "offering": None,
        "provider_options": [(p.slug, p.name) for p in providers],
    }
    if request.method == "GET":
        return render_form("admin/offering_form.html", form={}, **context)
    form = request.form.to_dict()
    try:
        offering = admin_catalog.create_offering(session, slug, form)
    except FORM_ERRORS as error:
        return render_form("admin/offering_form.html", error=error, form=form, **context)
    return done(f"Offering {offering.config_key} created.", "admin.model_edit", slug=slug)


@bp.route("/models/<slug>/offerings/<int:offering_id>", methods=["GET", "POST"])
def offering_edit(slug: str, offering_id: int) -> Any:
    """Edit an offering's provider model id, price, notes and source."""
    session = get_session()
    offering = admin_catalog.get_offering(session, slug, offering_id)
    context = {"model": offering.model, "offering": offering, "provider_options": []}
    if request.method == "GET":
        form = admin_catalog.offering_form(offering)
        return render_form("admin/offering_form.html", form=form, **context)
    form = request.form.to_dict()
    form["provider"] = offering.provider.slug
    try:
        admin_catalog.update_offering(session, slug, offering_id, form)
    except FORM_ERRORS as error:
        return render_form("admin/offering_form.html", error=error, form=form, **context)
    return done(f"Offering {offering.config_key} saved.", "admin.model_edit", slug=slug)
