"""Output moderation: the grid, hide and unhide (page and htmx), and hidden outputs never battle."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from arena.models import Battle, Competition, Model, Output, Prompt
from arena.services.voting.battles import issue_battle
from arena.web.db import get_db

SLUG = "fantasy-warrior-ii"


def _outputs_of(app, model_slug):
    with app.app_context(), get_db().session() as session:
        return list(
            session.scalars(
                select(Output.id)
                .join(Model, Model.id == Output.model_id)
                .join(Prompt, Prompt.id == Output.prompt_id)
                .join(Competition, Competition.id == Prompt.competition_id)
                .where(Model.slug == model_slug, Competition.slug == SLUG)
            )
        )


def test_admin_outputs_grid_shows_open_competition_outputs_with_models(voting_admin):
    page = voting_admin.page(f"/admin/outputs?competition={SLUG}")
    assert page.count('class="card output-card') == 42
    assert "Stable Diffusion XL" in page and "All (42)" in page and "Hidden (0)" in page
    output_id = _outputs_of(voting_admin.client.application, "sdxl")[0]
    thumb = voting_admin.get(f"/admin/outputs/{output_id}/thumb.webp")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    assert "private" in thumb.headers["Cache-Control"]
    full = voting_admin.get(f"/admin/outputs/{output_id}/image")
    assert full.status_code == 200 and full.mimetype == "image/png"
    full.close()
    # The public gallery route refuses it: the competition is open.
    public = voting_admin.client.get(f"/models/sdxl/arena/{_image_name(voting_admin, output_id)}")
    assert public.status_code == 404
    assert voting_admin.get("/admin/outputs/999999/image").status_code == 404
    assert voting_admin.get("/admin/outputs?competition=nope").status_code == 404


def _image_name(admin, output_id):
    with admin.client.application.app_context(), get_db().session() as session:
        return session.get(Output, output_id).image_name


def test_admin_hidden_outputs_never_appear_in_battles(voting_admin):
    app = voting_admin.client.application
    hidden = _outputs_of(app, "sdxl")
    assert len(hidden) == 3
    for output_id in hidden:
        response = voting_admin.post(
            f"/admin/outputs/{output_id}/hidden",
            {"hidden": "1", "next": f"/admin/outputs?competition={SLUG}&show=hidden"},
        )
        assert response.status_code == 303
        assert response.headers["Location"] == f"/admin/outputs?competition={SLUG}&show=hidden"
    hidden_page = voting_admin.page(f"/admin/outputs?competition={SLUG}&show=hidden")
    assert hidden_page.count('class="card output-card is-hidden') == 3 and "Unhide" in hidden_page

    with app.app_context():
        db = get_db()
        rng = random.Random(5)
        for _ in range(60):
            issue_battle(db, None, SLUG, rng=rng)
    with app.app_context(), get_db().session() as session:
        shown = set()
        for left, right in session.execute(select(Battle.left_output_id, Battle.right_output_id)):
            shown |= {left, right}
    assert len(shown) > 20  # many outputs took part ...
    assert shown.isdisjoint(hidden)  # ... but never a hidden one

    # Shown again with htmx: only its card comes back, ready to hide it again.
    output_id = hidden[0]
    response = voting_admin.post(
        f"/admin/outputs/{output_id}/hidden", {"hidden": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    card = response.get_data(as_text=True)
    assert card.lstrip().startswith(f'<article id="output-{output_id}"')
    assert "<html" not in card and "is-hidden" not in card
    assert re.search(r'name="hidden" value="1"', card) and ">Hide</button>" in card
    assert f'hx-post="/admin/outputs/{output_id}/hidden"' in card
    with app.app_context(), get_db().session() as session:
        assert session.get(Output, output_id).hidden is False
