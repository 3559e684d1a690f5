"""Admin models, offerings and categories: create, validation re-rendered, edit, duplicates."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from arena.models import Category, Model, ProviderOffering, Scope
from arena.web.db import get_db

NEW_MODEL = {
    "slug": "test-model-1",
    "name": "Test Model One",
    "creator": "Test Lab",
    "family": "",
    "status": "active",
    "released": "2025-03-01",
    "tags": "text-to-image, open-weights, text-to-image",
    "summary": "",
}


def _model(app, slug):
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(Model).where(Model.slug == slug))


def test_admin_models_list_and_search(seeded_admin):
    page = seeded_admin.page("/admin/models")
    assert "Stable Diffusion XL" in page and "/admin/models/sdxl" in page
    found = seeded_admin.page("/admin/models?q=Stability")
    assert "/admin/models/sdxl" in found and "/admin/models/hidream-i1-fast" not in found
    assert "No model matches" in seeded_admin.page("/admin/models?q=zzzz-nothing")


def test_admin_model_create_edit_and_refuse_duplicates(seeded_admin):
    app = seeded_admin.client.application
    form = seeded_admin.page("/admin/models/new")
    for name in ("slug", "name", "creator", "released", "tags", "description"):
        assert f'<label for="f-{name}">' in form and f'id="f-{name}"' in form

    created = seeded_admin.post("/admin/models/new", NEW_MODEL)
    assert created.status_code == 303
    assert created.headers["Location"] == "/admin/models/test-model-1"
    model = _model(app, "test-model-1")
    assert model.name == "Test Model One" and model.creator == "Test Lab"
    assert model.family is None and model.summary is None  # unknown stays empty
    assert model.tags == ["text-to-image", "open-weights"]
    assert str(model.released) == "2025-03-01"
    page = seeded_admin.page(created.headers["Location"])
    assert "Model test-model-1 created." in page

    # The new model accepts the same parameters as every seeded model.
    schema = app.test_client().get("/v1/models/test-model-1?schema=true").get_json()["schema"]
    assert "prompt" in schema["required"] and "seed" in schema["properties"]

    duplicate = seeded_admin.post("/admin/models/new", {**NEW_MODEL, "name": "Other"})
    assert duplicate.status_code == 409
    html = duplicate.get_data(as_text=True)
    assert "already exists" in html and 'id="f-slug-error"' in html
    assert 'value="Other"' in html  # what was typed is kept

    edited = seeded_admin.post(
        "/admin/models/test-model-1",
        {**NEW_MODEL, "name": "Test Model 1.1", "family": "test", "released": ""},
    )
    assert edited.status_code == 303
    model = _model(app, "test-model-1")
    assert model.name == "Test Model 1.1" and model.family == "test" and model.released is None


def test_admin_model_validation_names_the_field_and_writes_nothing(seeded_admin):
    app = seeded_admin.client.application
    cases = [
        ({"slug": "Bad Slug!"}, "slug", "lowercase letters"),
        ({"slug": ""}, "slug", "required"),
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"released": "next spring"}, "released", "YYYY-MM-DD"),
        ({"status": "retired"}, "status", "active, deprecated"),
    ]
    for change, field, words in cases:
        response = seeded_admin.post("/admin/models/new", {**NEW_MODEL, **change})
        assert response.status_code == 400, change
        html = response.get_data(as_text=True)
        error = re.search(rf'<p class="field-error" id="f-{field}-error">(.*?)</p>', html, re.S)
        assert error and words in error.group(1), (change, html[:0])
        assert f'aria-describedby="f-{field}-error' in html and 'aria-invalid="true"' in html
        assert f'href="#f-{field}"' in html  # the summary links to the field
    assert _model(app, "test-model-1") is None
    bad_edit = seeded_admin.post("/admin/models/sdxl", {"name": "", "creator": "Nobody"})
    assert bad_edit.status_code == 400
    assert _model(app, "sdxl").creator == "Stability AI"


def test_admin_model_deprecate_and_reactivate(seeded_admin):
    app = seeded_admin.client.application
    assert (
        seeded_admin.post("/admin/models/sdxl/status", {"status": "deprecated"}).status_code == 303
    )
    assert _model(app, "sdxl").status == "deprecated"
    assert "Mark active" in seeded_admin.page("/admin/models/sdxl")
    assert seeded_admin.post("/admin/models/sdxl/status", {"status": "gone"}).status_code == 400
    assert seeded_admin.post("/admin/models/sdxl/status", {"status": "active"}).status_code == 303
    assert _model(app, "sdxl").status == "active"
    assert seeded_admin.get("/admin/models/no-such-model").status_code == 404


def test_admin_offering_create_edit_price_rules_and_duplicates(seeded_admin):
    app = seeded_admin.client.application
    page = seeded_admin.page("/admin/models/sdxl")
    assert "fal/sdxl" in page and "fal-ai/fast-sdxl" in page
    form = {
        "provider": "openai",
        "provider_model_id": "sdxl-compatible",
        "pricing_unit": "per_image",
    }
    missing_price = seeded_admin.post("/admin/models/sdxl/offerings/new", form)
    assert missing_price.status_code == 400
    assert 'id="f-price_usd-error"' in missing_price.get_data(as_text=True)
    negative = seeded_admin.post("/admin/models/sdxl/offerings/new", {**form, "price_usd": "-1"})
    assert negative.status_code == 400 and "0 or more" in negative.get_data(as_text=True)
    created = seeded_admin.post("/admin/models/sdxl/offerings/new", {**form, "price_usd": "0.004"})
    assert created.status_code == 303
    with app.app_context(), get_db().session() as session:
        offering = session.scalar(
            select(ProviderOffering).where(ProviderOffering.config_key == "openai/sdxl")
        )
        assert offering.price_usd == Decimal("0.004") and offering.pricing_unit == "per_image"
        offering_id = offering.id

    twice = seeded_admin.post("/admin/models/sdxl/offerings/new", {**form, "price_usd": "0.01"})
    assert twice.status_code == 409
    assert 'id="f-provider-error"' in twice.get_data(as_text=True)

    edit_url = f"/admin/models/sdxl/offerings/{offering_id}"
    assert 'value="0.004"' in seeded_admin.page(edit_url)
    unknown = seeded_admin.post(edit_url, {"provider_model_id": "sdxl-2", "pricing_unit": ""})
    assert unknown.status_code == 303
    with app.app_context(), get_db().session() as session:
        offering = session.get(ProviderOffering, offering_id)
        assert offering.provider_model_id == "sdxl-2"
        assert offering.price_usd is None and offering.pricing_unit is None  # unknown, not 0
    assert seeded_admin.get("/admin/models/flux-1-dev/offerings/1").status_code == 404


def test_admin_category_create_edit_and_duplicate(seeded_admin):
    app = seeded_admin.client.application
    assert "Portrait" in seeded_admin.page("/admin/categories")
    bad = seeded_admin.post("/admin/categories/new", {"slug": "Food Shots", "name": "Food"})
    assert bad.status_code == 400 and 'id="f-slug-error"' in bad.get_data(as_text=True)
    created = seeded_admin.post("/admin/categories/new", {"slug": "food", "name": "Food"})
    assert created.status_code == 303
    duplicate = seeded_admin.post("/admin/categories/new", {"slug": "food", "name": "Food again"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.get_data(as_text=True)
    renamed = seeded_admin.post(
        "/admin/categories/food", {"slug": "food-and-drink", "name": "Food & drink", "mode": ""}
    )
    assert renamed.status_code == 303
    taken = seeded_admin.post("/admin/categories/food-and-drink", {"slug": "portrait", "name": "X"})
    assert taken.status_code == 409
    with app.app_context(), get_db().session() as session:
        category = session.scalar(select(Category).where(Category.slug == "food-and-drink"))
        assert category.name == "Food & drink" and category.mode == "Text-to-Image"
        scope = session.scalar(select(Scope).where(Scope.category_id == category.id))
        assert scope.key == "category:food-and-drink"  # its leaderboard moved with it
