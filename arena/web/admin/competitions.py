"""Admin pages for competitions: create, edit, open and close them, and manage their prompts."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from arena.errors import ArenaError
from arena.services.admin import competitions as service
from arena.services.status import competition_status
from arena.web.admin import bp
from arena.web.admin.forms import FORM_ERRORS, done, render_form
from arena.web.db import get_session

STATUS_NOTICES = {
    "open": "is open for voting",
    "closed": "is closed",
    "draft": "is back to draft",
}


def _competition_page(
    slug: str, *, form: dict[str, Any] | None = None, error: ArenaError | None = None
) -> Any:
    """The competition's page: status actions, the edit form and its prompts."""
    session = get_session()
    competition = service.get_competition(session, slug)
    return render_form(
        "admin/competition.html",
        error=error,
        competition=competition,
        form=form if form is not None else service.competition_form(competition),
        category_options=_category_options(session),
        models=service.model_choices(session),
        usage=service.prompt_usage(session, [p.id for p in competition.prompts]),
        status=next(r for r in competition_status(session) if r["slug"] == slug),
    )


def _category_options(session: Session) -> list[tuple[str, str]]:
    return [(c.slug, c.name) for c in service.category_choices(session)]


def _posted_competition() -> tuple[dict[str, Any], list[str]]:
    form: dict[str, Any] = request.form.to_dict()
    model_slugs = request.form.getlist("models")
    form["models"] = set(model_slugs)
    return form, model_slugs


@bp.get("/competitions")
def competitions() -> Any:
    """Every competition with its status, outputs and votes, drafts included."""
    return render_form("admin/competitions.html", rows=competition_status(get_session()))


@bp.route("/competitions/new", methods=["GET", "POST"])
def competition_new() -> Any:
    """Create a competition (as a draft) with its category and models."""
    session = get_session()
    choices = {
        "category_options": _category_options(session),
        "models": service.model_choices(session),
    }
    if request.method == "GET":
        return render_form(
            "admin/competition_new.html", form=service.competition_form(None), **choices
        )
    form, model_slugs = _posted_competition()
    try:
        competition = service.create_competition(session, form, model_slugs)
    except FORM_ERRORS as error:
        return render_form("admin/competition_new.html", error=error, form=form, **choices)
    return done(
        f"Competition {competition.slug} created as a draft. Add its prompts next.",
        "admin.competition_edit",
        slug=competition.slug,
    )


@bp.route("/competitions/<slug>", methods=["GET", "POST"])
def competition_edit(slug: str) -> Any:
    """A competition: open or close it, edit it, and list its prompts."""
    if request.method == "GET":
        return _competition_page(slug)
    form, model_slugs = _posted_competition()
    try:
        competition = service.update_competition(get_session(), slug, form, model_slugs)
    except FORM_ERRORS as error:
        return _competition_page(slug, form=form, error=error)
    return done(
        f"Competition {competition.slug} saved.", "admin.competition_edit", slug=competition.slug
    )


@bp.post("/competitions/<slug>/status")
def competition_status_change(slug: str) -> Any:
    """Open for voting, close, or back to draft (``status`` = open, closed or draft)."""
    try:
        competition = service.set_status(get_session(), slug, request.form.get("status", ""))
    except FORM_ERRORS as error:
        return _competition_page(slug, error=error)
    notice = STATUS_NOTICES.get(competition.status, competition.status)
    return done(
        f"{competition.name} ({competition.slug}) {notice}.", "admin.competition_edit", slug=slug
    )


@bp.route("/competitions/<slug>/prompts/new", methods=["GET", "POST"])
def prompt_new(slug: str) -> Any:
    """Add a prompt: text, negative prompt, seed, size and position."""
    session = get_session()
    competition = service.get_competition(session, slug)
    context = {"competition": competition, "prompt": None, "usage": None}
    if request.method == "GET":
        form = service.prompt_form(None, next_position=service.next_position(competition))
        return render_form("admin/prompt_form.html", form=form, **context)
    form = request.form.to_dict()
    try:
        prompt = service.add_prompt(session, slug, form)
    except FORM_ERRORS as error:
        return render_form("admin/prompt_form.html", error=error, form=form, **context)
    return done(f"Prompt {prompt.key} added.", "admin.competition_edit", slug=slug)


@bp.route("/competitions/<slug>/prompts/<int:prompt_id>", methods=["GET", "POST"])
def prompt_edit(slug: str, prompt_id: int) -> Any:
    """Edit a prompt; its inputs are fixed once it has finished outputs or battles."""
    session = get_session()
    prompt = service.get_prompt(session, slug, prompt_id)
    context = {
        "competition": prompt.competition,
        "prompt": prompt,
        "usage": service.prompt_usage(session, [prompt.id])[prompt.id],
    }
    if request.method == "GET":
        return render_form("admin/prompt_form.html", form=service.prompt_form(prompt), **context)
    form = request.form.to_dict()
    try:
        service.update_prompt(session, slug, prompt_id, form)
    except FORM_ERRORS as error:
        return render_form("admin/prompt_form.html", error=error, form=form, **context)
    return done(f"Prompt {form.get('key', '')} saved.", "admin.competition_edit", slug=slug)


@bp.post("/competitions/<slug>/prompts/<int:prompt_id>/delete")
def prompt_delete(slug: str, prompt_id: int) -> Any:
    """Delete a prompt that has no finished output and no battle."""
    try:
        service.delete_prompt(get_session(), slug, prompt_id)
    except FORM_ERRORS as error:
        return _competition_page(slug, error=error)
    return done(f"Prompt #{prompt_id} deleted.", "admin.competition_edit", slug=slug)
