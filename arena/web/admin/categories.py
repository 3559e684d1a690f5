"""Admin pages for categories (use cases such as Portrait)."""

from __future__ import annotations

from typing import Any

from flask import request

from arena.services.admin import catalog as admin_catalog
from arena.web.admin import bp
from arena.web.admin.forms import FORM_ERRORS, done, render_form
from arena.web.db import get_session


@bp.get("/categories")
def categories() -> Any:
    """Every category with its number of competitions."""
    return render_form("admin/categories.html", rows=admin_catalog.list_categories(get_session()))


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new() -> Any:
    """Create a category (and its leaderboard)."""
    if request.method == "GET":
        form = admin_catalog.category_form(None)
        return render_form("admin/category_form.html", form=form, category=None)
    form = request.form.to_dict()
    try:
        category = admin_catalog.create_category(get_session(), form)
    except FORM_ERRORS as error:
        return render_form("admin/category_form.html", error=error, form=form, category=None)
    return done(f"Category {category.slug} created.", "admin.categories")


@bp.route("/categories/<slug>", methods=["GET", "POST"])
def category_edit(slug: str) -> Any:
    """Edit a category; a new slug moves its leaderboard address with it."""
    session = get_session()
    category = admin_catalog.get_category(session, slug)
    if request.method == "GET":
        form = admin_catalog.category_form(category)
        return render_form("admin/category_form.html", form=form, category=category)
    form = request.form.to_dict()
    try:
        category = admin_catalog.update_category(session, slug, form)
    except FORM_ERRORS as error:
        return render_form("admin/category_form.html", error=error, form=form, category=category)
    return done(f"Category {category.slug} saved.", "admin.categories")
