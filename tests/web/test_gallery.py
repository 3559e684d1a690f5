"""The gallery: closed competitions' outputs captioned with rank and rating; open ones hidden."""

from __future__ import annotations

import html
import re

from sqlalchemy import select, update

from arena.models import Competition, Model, Output, Prompt
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db

OPEN = "fantasy-warrior-ii"  # every output made by ``voting_app`` (3 prompts, 14 models)


def text_of(page: str) -> str:
    """The visible text of an HTML page, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def image_urls(page: str) -> list[str]:
    return re.findall(r'<img src="(/models/[^"]+/arena/[^"]+)"', page)


def outputs_of(app, competition: str) -> dict[str, list[str]]:
    """``{model slug: [image name, …]}`` of a competition's finished outputs."""
    with app.app_context(), get_db().session() as session:
        rows = session.execute(
            select(Model.slug, Output.image_name)
            .join(Output, Output.model_id == Model.id)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .join(Competition, Competition.id == Prompt.competition_id)
            .where(Competition.slug == competition, Output.status == "done")
        ).all()
    out: dict[str, list[str]] = {}
    for slug, name in rows:
        out.setdefault(slug, []).append(name)
    return out


def close(app, slug: str) -> None:
    with app.app_context(), get_db().session() as session:
        session.execute(update(Competition).where(Competition.slug == slug).values(status="closed"))
        session.commit()
        publish_snapshots(session, rounds=20, seed=1)


def test_gallery_of_an_open_competition_is_a_404_and_links_no_output(voting_app, votes):
    votes.cast(20, seed=3)
    client = voting_app.test_client()
    response = client.get(f"/gallery/{OPEN}")
    assert response.status_code == 404
    assert "still open for voting" in text_of(response.get_data(as_text=True))
    index = client.get("/gallery").get_data(as_text=True)
    assert "No competition has closed yet" in index and not image_urls(index)
    names = [n for names in outputs_of(voting_app, OPEN).values() for n in names]
    for path in ("/gallery", f"/competitions/{OPEN}", "/", "/competitions"):
        page = client.get(path).get_data(as_text=True)
        assert not [n for n in names if n.partition(".")[0] in page], path
    assert client.get("/gallery/no-such-competition").status_code == 404


def test_gallery_of_a_closed_competition_captions_every_model_with_rank_and_rating(
    voting_app, votes
):
    votes.cast(60, choice=("left", "right", "tie"), seed=4)
    close(voting_app, OPEN)
    client = voting_app.test_client()
    outputs = outputs_of(voting_app, OPEN)
    assert len(outputs) == 14

    index = client.get("/gallery").get_data(as_text=True)
    assert "Fantasy Warrior · edition 2" in text_of(index)  # editions told apart by label
    assert f'href="/gallery/{OPEN}"' in index
    assert 1 <= len(image_urls(index)) <= 4

    response = client.get(f"/gallery/{OPEN}?prompt=1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    urls = image_urls(page)
    assert len(urls) == 14  # every model, side by side
    with voting_app.app_context(), get_db().session() as session:
        names = dict(session.execute(select(Model.slug, Model.name)).all())
    for slug in outputs:
        assert names[slug] in text
    ranks = [int(r) for r in re.findall(r"#(\d+) of 14 · rating \d+", text)]
    assert ranks and ranks == sorted(ranks)  # best ranked first
    assert len(ranks) + text.count("not ranked") == 14
    for url in urls:  # each image is one of this competition's outputs, served
        slug, _, name = url.removeprefix("/models/").partition("/arena/")
        assert name in outputs[slug]
        with client.get(url) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"

    # Prompt navigation: previous/next and the list of prompts.
    assert f'href="/gallery/{OPEN}?prompt=2" rel="next"' in page
    middle = client.get(f"/gallery/{OPEN}?prompt=2").get_data(as_text=True)
    assert 'rel="prev"' in middle and 'rel="next"' in middle
    assert set(image_urls(middle)).isdisjoint(urls)
    assert client.get(f"/gallery/{OPEN}").get_data(as_text=True).count('rel="next"') == 1
    last = client.get(f"/gallery/{OPEN}?prompt=3").get_data(as_text=True)
    assert 'rel="next"' not in last and "All 3 prompts with images" in last

    # The closed competition's own page shows its gallery's first prompt.
    detail = client.get(f"/competitions/{OPEN}").get_data(as_text=True)
    assert sorted(image_urls(detail)) == sorted(urls)
    assert f'href="/gallery/{OPEN}"' in detail


def test_gallery_refuses_bad_prompt_numbers_with_a_clear_4xx(voting_app):
    close(voting_app, OPEN)
    client = voting_app.test_client()
    missing = client.get(f"/gallery/{OPEN}?prompt=9")
    assert missing.status_code == 404
    assert "has no prompt 9" in text_of(missing.get_data(as_text=True))
    for bad in ("x", "0", "-1", "1.5", "9999999"):
        response = client.get(f"/gallery/{OPEN}?prompt={bad}")
        assert response.status_code in (400, 404), bad
        assert "prompt" in text_of(response.get_data(as_text=True))


def test_gallery_leaves_out_hidden_outputs(voting_app):
    close(voting_app, OPEN)
    hidden = outputs_of(voting_app, OPEN)["sdxl"]
    with voting_app.app_context(), get_db().session() as session:
        session.execute(update(Output).where(Output.image_name.in_(hidden)).values(hidden=True))
        session.commit()
    client = voting_app.test_client()
    for n in (1, 2, 3):
        page = client.get(f"/gallery/{OPEN}?prompt={n}").get_data(as_text=True)
        assert len(image_urls(page)) == 13
        assert "/models/sdxl/arena/" not in page


def test_navigation_links_the_gallery(client):
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav class="nav" aria-label="Main">')[1].split("</nav>")[0]
    assert re.search(r'<a href="/gallery"\s*>Gallery</a>', nav)
    assert client.get("/gallery").status_code == 200
