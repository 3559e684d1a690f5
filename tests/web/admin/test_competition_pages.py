"""Admin competitions and prompts: CRUD, open/close rules, prompts locked once they have outputs."""

from __future__ import annotations

from sqlalchemy import func, select

from arena.models import Battle, Competition, Model, Output, Prompt, Rating, Scope
from arena.web.db import get_db

NEW = {
    "slug": "space-pilot",
    "name": "Space Pilot",
    "category": "portrait",
    "description": "Pilots in cockpits.",
    "models": ["sdxl", "flux-1-dev"],
}
PROMPT = {
    "key": "cockpit",
    "text": "A pilot in a cockpit",
    "negative_prompt": "",
    "seed": "7",
    "width": "96",
    "height": "64",
    "position": "0",
}


def _competition(app, slug):
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(Competition).where(Competition.slug == slug))


def _prompt_ids(app, slug):
    with app.app_context(), get_db().session() as session:
        return list(
            session.scalars(
                select(Prompt.id)
                .join(Competition)
                .where(Competition.slug == slug)
                .order_by(Prompt.id)
            )
        )


def test_admin_competitions_list_shows_every_status(seeded_admin):
    page = seeded_admin.page("/admin/competitions")
    assert "fantasy-warrior-ii" in page and "badge-open" in page
    assert "/admin/competitions/fantasy-warrior/generation" in page


def test_admin_competition_create_edit_and_duplicate(seeded_admin):
    app = seeded_admin.client.application
    form = seeded_admin.page("/admin/competitions/new")
    assert '<label for="m-sdxl">' in form and "<legend>Models in it" in form

    one_model = seeded_admin.post("/admin/competitions/new", {**NEW, "models": ["sdxl"]})
    assert one_model.status_code == 400
    html = one_model.get_data(as_text=True)
    assert 'id="f-models-error"' in html and "at least 2 models" in html
    assert 'value="sdxl" checked' in html

    no_category = seeded_admin.post("/admin/competitions/new", {**NEW, "category": "nope"})
    assert no_category.status_code == 400
    assert 'id="f-category-error"' in no_category.get_data(as_text=True)
    assert _competition(app, "space-pilot") is None

    created = seeded_admin.post("/admin/competitions/new", NEW)
    assert created.status_code == 303
    assert created.headers["Location"] == "/admin/competitions/space-pilot"
    competition = _competition(app, "space-pilot")
    assert competition.status == "draft"
    with app.app_context(), get_db().session() as session:
        scope = session.scalar(select(Scope).where(Scope.key == "competition:space-pilot"))
        assert scope is not None
        ratings = session.scalar(select(func.count()).where(Rating.scope_id == scope.id))
        assert ratings == 2  # the vote path only ever updates existing rating rows

    duplicate = seeded_admin.post("/admin/competitions/new", {**NEW, "slug": "fantasy-warrior"})
    assert duplicate.status_code == 409
    assert 'id="f-slug-error"' in duplicate.get_data(as_text=True)

    edited = seeded_admin.post(
        "/admin/competitions/space-pilot",
        {
            **NEW,
            "slug": "space-pilots",
            "name": "Space Pilots",
            "models": ["sdxl", "flux-1-dev", "cogview4"],
        },
    )
    assert edited.status_code == 303
    assert edited.headers["Location"] == "/admin/competitions/space-pilots"
    competition = _competition(app, "space-pilots")
    assert competition.name == "Space Pilots"
    with app.app_context(), get_db().session() as session:
        assert session.scalar(select(Scope.id).where(Scope.key == "competition:space-pilots"))
    taken = seeded_admin.post(
        "/admin/competitions/space-pilots", {**NEW, "slug": "fantasy-warrior-ii"}
    )
    assert taken.status_code == 409


def test_admin_prompt_add_edit_delete(seeded_admin):
    app = seeded_admin.client.application
    seeded_admin.post("/admin/competitions/new", NEW)
    form = seeded_admin.page("/admin/competitions/space-pilot/prompts/new")
    assert 'value="prompt-1"' in form and '<label for="f-seed">' in form

    too_big = seeded_admin.post(
        "/admin/competitions/space-pilot/prompts/new", {**PROMPT, "width": "9000"}
    )
    assert too_big.status_code == 400
    assert "between 64 and 4096" in too_big.get_data(as_text=True)
    no_text = seeded_admin.post(
        "/admin/competitions/space-pilot/prompts/new", {**PROMPT, "text": " "}
    )
    assert no_text.status_code == 400 and 'id="f-text-error"' in no_text.get_data(as_text=True)
    assert _prompt_ids(app, "space-pilot") == []

    assert (
        seeded_admin.post("/admin/competitions/space-pilot/prompts/new", PROMPT).status_code == 303
    )
    again = seeded_admin.post("/admin/competitions/space-pilot/prompts/new", PROMPT)
    assert again.status_code == 409 and 'id="f-key-error"' in again.get_data(as_text=True)
    [prompt_id] = _prompt_ids(app, "space-pilot")

    url = f"/admin/competitions/space-pilot/prompts/{prompt_id}"
    changed = seeded_admin.post(url, {**PROMPT, "text": "A pilot at night", "seed": "8"})
    assert changed.status_code == 303
    with app.app_context(), get_db().session() as session:
        prompt = session.get(Prompt, prompt_id)
        assert (prompt.text, prompt.seed) == ("A pilot at night", 8)
    assert seeded_admin.post(url + "/delete").status_code == 303
    assert _prompt_ids(app, "space-pilot") == []


def test_admin_prompt_inputs_lock_once_outputs_exist(voting_admin):
    app = voting_admin.client.application
    prompt_id = _prompt_ids(app, "fantasy-warrior-ii")[0]
    url = f"/admin/competitions/fantasy-warrior-ii/prompts/{prompt_id}"
    page = voting_admin.page(url)
    assert "The inputs are locked" in page and "readonly" in page
    with app.app_context(), get_db().session() as session:
        prompt = session.get(Prompt, prompt_id)
        current = {
            "key": prompt.key,
            "text": prompt.text,
            "negative_prompt": prompt.negative_prompt or "",
            "seed": str(prompt.seed),
            "width": str(prompt.width),
            "height": str(prompt.height),
            "position": str(prompt.position),
        }
    refused = voting_admin.post(url, {**current, "seed": "99"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "matched outputs" in html and 'id="f-seed-error"' in html
    # Key and position are not inputs: they may change.
    assert voting_admin.post(url, {**current, "position": "5"}).status_code == 303
    deleted = voting_admin.post(url + "/delete")
    assert deleted.status_code == 409 and "Cannot delete this prompt" in deleted.get_data(
        as_text=True
    )
    with app.app_context(), get_db().session() as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt.seed == int(current["seed"]) and prompt.position == 5
        assert session.scalar(select(func.count()).where(Output.prompt_id == prompt_id)) == 14


def test_admin_competition_open_close_rules(seeded_admin):
    app = seeded_admin.client.application
    seeded_admin.post("/admin/competitions/new", NEW)
    status_url = "/admin/competitions/space-pilot/status"
    no_prompt = seeded_admin.post(status_url, {"status": "open"})
    assert no_prompt.status_code == 409 and "add a prompt" in no_prompt.get_data(as_text=True)
    seeded_admin.post("/admin/competitions/space-pilot/prompts/new", PROMPT)
    opened = seeded_admin.post(status_url, {"status": "open"})
    assert opened.status_code == 303
    assert "is open for voting" in seeded_admin.page(opened.headers["Location"])
    assert _competition(app, "space-pilot").status == "open"
    assert seeded_admin.client.get("/competitions/space-pilot").status_code == 200
    assert seeded_admin.post(status_url, {"status": "closed"}).status_code == 303
    assert _competition(app, "space-pilot").status == "closed"
    reopen = seeded_admin.post(status_url, {"status": "open"})
    assert reopen.status_code == 409 and "cannot reopen" in reopen.get_data(as_text=True)
    assert seeded_admin.post(status_url, {"status": "paused"}).status_code == 400
    assert _competition(app, "space-pilot").status == "closed"


def test_admin_competition_with_votes_keeps_its_category_and_fought_models(voting_admin, votes):
    app = voting_admin.client.application
    votes.cast(choice="left", seed=1)
    with app.app_context(), get_db().session() as session:
        competition = session.scalar(
            select(Competition).where(Competition.slug == "fantasy-warrior-ii")
        )
        slugs = [m.slug for m in competition.models]
        fought = session.scalar(select(Model.slug).join(Battle, Battle.left_model_id == Model.id))
    form = {
        "slug": "fantasy-warrior-ii",
        "name": "Fantasy Warrior",
        "category": "landscape",
        "models": slugs,
    }
    url = "/admin/competitions/fantasy-warrior-ii"
    moved = voting_admin.post(url, form)
    assert moved.status_code == 409 and 'id="f-category-error"' in moved.get_data(as_text=True)
    kept = [s for s in slugs if s != fought]
    withdrawn = voting_admin.post(url, {**form, "category": "portrait", "models": kept})
    assert withdrawn.status_code == 409
    assert f"Cannot withdraw {fought}" in withdrawn.get_data(as_text=True)
    draft = voting_admin.post(url + "/status", {"status": "draft"})
    assert draft.status_code == 409 and "already has votes" in draft.get_data(as_text=True)
    with app.app_context(), get_db().session() as session:
        competition = session.scalar(
            select(Competition).where(Competition.slug == "fantasy-warrior-ii")
        )
        assert competition.category.slug == "portrait" and competition.status == "open"
        assert len(competition.models) == len(slugs)
