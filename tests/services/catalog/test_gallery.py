"""Gallery images: only closed competitions' outputs, curated examples rendered once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from arena.errors import NotFound
from arena.media import image_path
from arena.models import Competition, Model, Output, Prompt
from arena.services import generation
from arena.services.catalog import gallery, model_page
from arena.web.db import get_db

HIDREAM = "hidream-i1-fast"


def _make_outputs(app, session, competition: str, model: str) -> list[str]:
    competitions = generation.select_competitions(session, [competition], False)
    model_id = session.scalar(select(Model.id).where(Model.slug == model))
    jobs = [
        j
        for j in generation.plan_jobs(session, competitions, app.config, "builtin").jobs
        if j.model_id == model_id
    ]
    generation.run_jobs(session, jobs, app.config, workers=2, backoff_s=0)
    return list(
        session.scalars(
            select(Output.image_name)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .join(Competition, Competition.id == Prompt.competition_id)
            .where(Competition.slug == competition, Output.model_id == model_id)
        )
    )


def test_gallery_shows_only_closed_competitions_outputs(voting_app):
    media = voting_app.config["MEDIA_DIR"]
    with voting_app.app_context(), get_db().session() as session:
        open_names = _make_outputs(voting_app, session, "fantasy-warrior-ii", HIDREAM)
        closed_names = _make_outputs(voting_app, session, "storefront-signage", HIDREAM)
        assert open_names and closed_names
        page = model_page.model_page(session, HIDREAM)
        assert {i.image_name for i in page.arena_images} == set(closed_names)
        assert {i.competition_slug for i in page.arena_images} == {"storefront-signage"}
        for name in open_names:
            with pytest.raises(NotFound):
                gallery.closed_output_image(session, media, HIDREAM, name)
        stored = gallery.closed_output_image(session, media, HIDREAM, closed_names[0])
        assert stored.path == image_path(media, closed_names[0]) and stored.format == "png"
        with pytest.raises(NotFound):  # another model's name for the image
            gallery.closed_output_image(session, media, "sdxl", closed_names[0])

        # A moderator hides one: it leaves the gallery and its URL stops working.
        session.execute(
            update(Output).where(Output.image_name == closed_names[0]).values(hidden=True)
        )
        session.commit()
        page = model_page.model_page(session, HIDREAM)
        assert closed_names[0] not in {i.image_name for i in page.arena_images}
        with pytest.raises(NotFound):
            gallery.closed_output_image(session, media, HIDREAM, closed_names[0])


def test_curated_image_is_rendered_once_and_cached(session, seeded):
    media = seeded.config["MEDIA_DIR"]
    path = gallery.curated_image(session, media, HIDREAM, 2)
    assert path.is_relative_to(Path(media) / "gallery" / HIDREAM)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    mtime = path.stat().st_mtime_ns
    again = gallery.curated_image(session, media, HIDREAM, 2)
    assert again == path and again.stat().st_mtime_ns == mtime
    assert gallery.curated_image(session, media, HIDREAM, 1) != path
    for n in (0, 3):
        with pytest.raises(NotFound):
            gallery.curated_image(session, media, HIDREAM, n)
    with pytest.raises(NotFound):
        gallery.curated_image(session, media, "sdxl", 1)  # no curated prompts
