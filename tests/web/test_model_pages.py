"""Model pages and catalog: every fact of docs/reference-model-page.md, anonymity, htmx search."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import func, select, update

from arena.media import image_path
from arena.models import Competition, Model, Output, Prompt
from arena.services import generation
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.seeding import load_seeds
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parents[2]
SEED_MODELS = {
    data["id"]: data
    for data in (yaml.safe_load(p.read_text()) for p in (ROOT / "seeds" / "models").glob("*.yaml"))
}
HIDREAM = "hidream-i1-fast"
PARAMETERS = [
    "prompt", "negative_prompt", "seed", "size", "aspect_ratio", "resolution",
    "response_format", "output_format", "output_compression", "n",
    "enable_safety_checker", "model_type", "num_inference_steps", "output_quality",
    "speed_mode", "sync_mode",
]  # fmt: skip


def text_of(page: str) -> str:
    """The visible text of an HTML page, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-model="([^"]+)"', page)


def fetch(client, url: str) -> tuple[int, str, bytes]:
    """Status, mimetype and body of a file response, closed (it may hold an open file)."""
    with client.get(url) as response:
        return response.status_code, response.mimetype, response.get_data()


def get_page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_model_page_carries_every_fact_of_the_reference_page(seeded):
    client = seeded.test_client()
    page = get_page(client, f"/models/{HIDREAM}")
    text = text_of(page)
    facts = [
        "HiDream I1 Fast",
        "Distilled version of HiDream AI's 17B parameter text-to-image model",
        "Model ID hidream-i1-fast",
        "Creator HiDream AI",
        "Status active",
        "Family hidream",
        "Base URL http://localhost/openai/v1",
        "Input Modalities text",
        "Output Modalities image",
        "Supported Modes Text to Image",
        "GET /v1/models/hidream-i1-fast?schema=true",
        "Core Parameters",
        "Size & Layout",
        "Output & Format",
        "Additional Parameters",
        "prompt (string) — REQUIRED",
        "Text prompt for image generation",
        "Default: url",
        "Values: url, b64_json",
        "Values: png, jpeg, gif, webp, avif",
        "Default: 1",
        "Values: fast",
        "Values: Extra Juiced 🚀 (even more speed), Juiced 🔥 (more speed), "
        "Lightly Juiced 🍊 (more consistent), Unsqueezed 🍋 (highest quality)",
        "Only available via fal",
        "Only available via replicate",
        "Primary Slug hidream-i1-fast",
        "image-generation",
        "text-to-image",
        "fal.ai",
        "Replicate",
        "Config Key fal/hidream-i1-fast",
        "Config Key replicate/hidream-i1-fast",
        "Provider Model ID fal-ai/hidream-i1-fast",
        "Provider Model ID prunaai/hidream-l1-fast",
        "Pricing $0.010/megapixel",
        "Pricing $0.0050/image",
        "PrunaAI optimized version of HiDream L1",
        "~$0.014 per image (71 runs per $1)",
        "https://fal.ai/models/fal-ai/hidream-i1-fast",
        "https://replicate.com/prunaai/hidream-l1-fast",
        "No battles yet",
        "made by the offline builtin stand-in",
        SEED_MODELS[HIDREAM]["example_prompt"],
        "curl -X POST http://localhost/openai/v1/images/generations",
        '"model": "hidream-i1-fast"',
        '"size": "1024x1024"',
        "from openai import OpenAI",
        'base_url="http://localhost/openai/v1"',
        'baseURL: "http://localhost/openai/v1"',
        "HiDream I1 Fast starts at $0.0050/image through Replicate",
        "HiDream I1 Fast is available through fal.ai and Replicate",
        "Low Latency Generation:",
        "Technical Background",
        "Best For",
    ]
    missing = [fact for fact in facts if fact not in text]
    assert not missing
    for name in PARAMETERS:
        assert f'<code class="param-name">{name}</code>' in page, name
    for prompt in SEED_MODELS[HIDREAM]["curated_prompts"]:
        assert prompt in text
    assert f'src="/models/{HIDREAM}/gallery/1.png"' in page
    assert f'src="/models/{HIDREAM}/gallery/2.png"' in page
    assert "<strong>Low Latency Generation:</strong>" in page  # **bold** rendered
    headings = [
        "Quick Reference", "Specifications", "API Parameters", "Model Identifiers", "Tags",
        "Available Providers", "Arena Benchmarks", "Use Cases &amp; Category Performance",
        "Image Gallery", "Example Prompt", "Code Examples", "About", "Frequently Asked Questions",
    ]  # fmt: skip
    positions = [page.index(f">{h}</h2>") for h in headings]
    assert positions == sorted(positions)  # the order of docs/reference-model-page.md


def test_model_page_code_examples_point_at_this_server(seeded):
    client = seeded.test_client()
    page = get_page(client, f"/models/{HIDREAM}", base_url="https://arena.example.org")
    text = text_of(page)
    assert "Base URL https://arena.example.org/openai/v1" in text
    assert "curl -X POST https://arena.example.org/openai/v1/images/generations" in text
    assert 'base_url="https://arena.example.org/openai/v1"' in text
    assert "localhost" not in text


def test_every_seeded_model_page_renders(seeded):
    client = seeded.test_client()
    assert len(SEED_MODELS) == 27
    for slug, data in SEED_MODELS.items():
        page = get_page(client, f"/models/{slug}")
        assert f"<h1>{html.escape(data['name'])} " in page, slug
        assert f"Model ID {slug}" in text_of(page)


def test_model_pages_say_plainly_when_data_is_missing(seeded):
    client = seeded.test_client()
    lumina = text_of(get_page(client, "/models/lumina-image-2"))
    assert "No provider offers this model; Arena serves it with the offline builtin stand-in." in (
        lumina
    )
    assert "There is no published price for Lumina-Image 2.0" in lumina
    assert "No curated examples for this model yet." in lumina
    assert "No description of this model yet." in lumina
    assert "No battles yet" in lumina
    sdxl = text_of(get_page(client, "/models/sdxl"))
    assert sdxl.count("Pricing Price unknown") == 2
    assert "no published price" in sdxl
    assert "no generations yet" in sdxl


def test_unknown_model_is_a_404_page(seeded):
    response = seeded.test_client().get("/models/no-such-model")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is no model called" in response.get_data(as_text=True)


def test_about_markdown_renders_bold_only_after_escaping(seeded):
    with seeded.app_context(), get_db().session() as session:
        session.execute(
            update(Model)
            .where(Model.slug == "sdxl")
            .values(about={"strengths": ["**<i>Fast</i>** <script>alert(1)</script> **a*b**"]})
        )
        session.commit()
    page = get_page(seeded.test_client(), "/models/sdxl")
    assert "<strong>&lt;i&gt;Fast&lt;/i&gt;</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<strong>a*b</strong>" in page


def test_curated_gallery_images_are_rendered_once_and_cached(seeded):
    client = seeded.test_client()
    status, mimetype, data = fetch(client, f"/models/{HIDREAM}/gallery/1.png")
    assert (status, mimetype) == (200, "image/png") and data.startswith(b"\x89PNG")
    cached = list((Path(seeded.config["MEDIA_DIR"]) / "gallery" / HIDREAM).glob("1-*.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == data
    assert fetch(client, f"/models/{HIDREAM}/gallery/1.png")[2] == data
    assert fetch(client, f"/models/{HIDREAM}/gallery/3.png")[0] == 404
    assert fetch(client, f"/models/{HIDREAM}/gallery/0.png")[0] == 404
    assert fetch(client, "/models/no-such-model/gallery/1.png")[0] == 404
    assert fetch(client, f"/models/{HIDREAM}/arena/not-one-of-ours.png")[0] == 404


# --- arena figures ---------------------------------------------------------------------------


@pytest.fixture
def reference_app(app, small_seeds: Path, tmp_path: Path):
    """Fantasy Warrior with 21 models and the reference page's record for hidream-i1-fast
    (docs/reference-model-page.md), imported through ``arena import-votes`` (as
    tests/web/test_reference_record.py does)."""
    path = small_seeds / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    others = sorted(s for s in SEED_MODELS if s != HIDREAM)[:20]
    data["competitions"][0]["models"] = [HIDREAM, *others]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    stronger, weaker = others[:12], others[12:]
    rows = [(HIDREAM, stronger[i % 12], "model_b") for i in range(31)]
    rows += [(weaker[i % 8], HIDREAM, "model_b") for i in range(9)]
    rows += [(HIDREAM, weaker[i], "tie") for i in range(2)]
    rows += [(stronger[i % 12], weaker[i % 8], "model_a") for i in range(80)]
    dump = tmp_path / "battles.csv"
    pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]).to_csv(dump, index=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-votes", str(dump), "--competition", "fantasy-warrior"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["recompute", "--bootstrap", "50", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return app


def test_model_page_shows_the_reference_arena_record_once_votes_exist(reference_app):
    client = reference_app.test_client()
    board = client.get("/api/v1/leaderboards/competition:fantasy-warrior").get_json()
    row = next(r for r in board["rows"] if r["model_id"] == HIDREAM)
    elo, ub = row["elo"], row["rank_ub"]
    interval = f"(95% interval {row['ci_low']:.0f}–{row['ci_high']:.0f})"
    text = text_of(get_page(client, f"/models/{HIDREAM}"))
    assert f"Elo {elo:.0f} · 9W / 31L / 2T (42 battles) · Rank #13 of 21" in text
    assert f"Rank (UB) #{ub} · Rating {row['bt_rating']:.0f} {interval}" in text
    # Editions are told apart by their label, not their slug.
    assert "Fantasy Warrior · edition 1 open Portrait" in text
    assert "Portrait (Text-to-Image)" in text
    assert f"Rank #13 of 21 Elo {elo:.0f} Record 9W / 31L / 2T (42 battles) Win Rate 21.4%" in text
    assert f"Win Rate 21.4% Rank (UB) #{ub} Rating {row['bt_rating']:.0f}" in text
    assert f"Overall arena: Elo {elo:.0f} · Rank #13 of 21" in text
    assert "No battles yet" not in text and "not yet ranked" not in text

    catalog_page = get_page(client, "/models")
    assert rows_of(catalog_page)[:13][-1] == HIDREAM  # 13th by the published overall rating
    row = catalog_page.split(f'<tr data-model="{HIDREAM}"')[1].split("</tr>")[0]
    assert '#13 <span class="muted">of 21</span>' in row
    assert f">{elo:.0f}<" in row and ">42<" in row and "$0.0050/image" in row


def _outputs_of(session, competition: str) -> list[tuple[str, str]]:
    """(model slug, image name) of a competition's finished outputs."""
    return list(
        session.execute(
            select(Model.slug, Output.image_name)
            .join(Output, Output.model_id == Model.id)
            .join(Prompt, Prompt.id == Output.prompt_id)
            .join(Competition, Competition.id == Prompt.competition_id)
            .where(Competition.slug == competition, Output.status == "done")
        ).all()
    )


def test_open_competition_outputs_are_never_shown_or_served_closed_ones_are(voting_app, votes):
    app = voting_app
    with app.app_context():
        db = get_db()
        votes.cast(40, choice=("left", "right", "tie"), seed=2)
        with db.session() as session:
            open_outputs = _outputs_of(session, "fantasy-warrior-ii")
            open_outputs += _outputs_of(session, "heroic-super-hero-portrait")
            hidream_builtin = session.scalar(
                select(func.count())
                .select_from(Output)
                .join(Model, Model.id == Output.model_id)
                .where(Model.slug == HIDREAM, Output.provider == "builtin")
            )
    assert len(open_outputs) > 14 and hidream_builtin
    client = app.test_client()
    slugs = sorted({slug for slug, _ in open_outputs})
    for slug in slugs:
        page = get_page(client, f"/models/{slug}")
        assert "No closed competition has images of this model yet." in page
        leaked = [name for _, name in open_outputs if name.partition(".")[0] in page]
        assert not leaked, slug
        assert f"/models/{slug}/arena/" not in page
    for slug, name in open_outputs:
        assert fetch(client, f"/models/{slug}/arena/{name}")[0] == 404
    hidream = text_of(get_page(client, f"/models/{HIDREAM}"))
    assert "Elo " in hidream and "not yet ranked" in hidream  # the arena figures are there...
    assert f"{hidream_builtin} images made" in hidream  # ...and the measured generation record

    # A closed competition's outputs are shown, with rank and Elo, and served.
    with app.app_context(), get_db().session() as session:
        storefront = generation.select_competitions(session, ["storefront-signage"], False)
        model_id = session.scalar(select(Model.id).where(Model.slug == HIDREAM))
        jobs = generation.plan_jobs(session, storefront, app.config, "builtin").jobs
        generation.run_jobs(session, [j for j in jobs if j.model_id == model_id], app.config)
        closed = [n for s, n in _outputs_of(session, "storefront-signage") if s == HIDREAM]
    assert len(closed) == 3
    page = get_page(client, f"/models/{HIDREAM}")
    # One thumbnail per closed competition (the gallery has the others), every one served.
    assert sum(f'src="/models/{HIDREAM}/arena/{name}"' in page for name in closed) == 1
    assert 'href="/gallery/storefront-signage"' in page and "3 images in the gallery" in page
    for name in closed:
        url = f"/models/{HIDREAM}/arena/{name}"
        status, mimetype, data = fetch(client, url)
        assert (status, mimetype) == (200, "image/png")
        assert data == image_path(app.config["MEDIA_DIR"], name).read_bytes()
        assert fetch(client, f"/models/sdxl/arena/{name}")[0] == 404  # wrong model
    # Captioned with the published rank (none yet: no battles), never "no battles".
    assert "Storefront Signage closed #" not in text_of(page)
    assert "Storefront Signage closed not ranked" in text_of(page)
    assert "no battles" not in text_of(page).lower().replace("no battles yet", "")
    assert not [n for _, n in open_outputs if n.partition(".")[0] in page]

    # Once voting closes, the competition's results join the gallery with rank and Elo.
    with app.app_context(), get_db().session() as session:
        session.execute(
            update(Competition)
            .where(Competition.slug == "fantasy-warrior-ii")
            .values(status="closed")
        )
        session.commit()
        publish_snapshots(session, rounds=20, seed=1)
    page = get_page(client, f"/models/{HIDREAM}")
    mine = [n for s, n in open_outputs if s == HIDREAM]
    assert mine and sum(f"/models/{HIDREAM}/arena/{n}" in page for n in mine) == 1
    assert re.search(
        r"Fantasy Warrior · edition 2 closed #\d+ of 14 · rating \d+ · Elo \d+", text_of(page)
    )
    assert fetch(client, f"/models/{HIDREAM}/arena/{mine[0]}")[0] == 200


# --- the catalog --------------------------------------------------------------------------------


def test_catalog_lists_every_model_with_elo_battles_and_price(seeded):
    page = get_page(seeded.test_client(), "/models")
    assert sorted(rows_of(page)) == sorted(SEED_MODELS)
    for slug in SEED_MODELS:
        assert f'href="/models/{slug}"' in page
    row = page.split(f'<tr data-model="{HIDREAM}"')[1].split("</tr>")[0]
    assert "$0.0050/image" in row and "no battles" in row
    sdxl = page.split('<tr data-model="sdxl"')[1].split("</tr>")[0]
    assert "price unknown" in sdxl
    assert 'hx-get="/models"' in page and 'hx-push-url="true"' in page
    assert 'method="get"' in page and 'hx-target="#model-results"' in page
    assert '<option value="HiDream AI"' in page and '<option value="open-weights"' in page
    assert 'href="/models" aria-current="page">Models</a>' in page


def test_catalog_search_filters_and_sort_as_page_and_htmx_fragment(seeded):
    client = seeded.test_client()
    page = get_page(client, "/models?q=hidream")
    assert set(rows_of(page)) == {"hidream-i1-fast", "hidream-i1-dev", "hidream-i1-full"}
    assert 'value="hidream"' in page  # the search box keeps its text
    assert "3 models match" in page
    page = get_page(client, "/models?creator=HiDream+AI&tag=open-weights")
    assert set(rows_of(page)) == {"hidream-i1-dev", "hidream-i1-full"}
    page = get_page(client, "/models?family=flux&sort=name")
    names = [SEED_MODELS[s]["name"] for s in rows_of(page)]
    assert names == sorted(names) and len(names) == 5
    assert get_page(client, "/models?status=deprecated").count("<tr data-model") == 0

    response = client.get("/models?q=flux&sort=name", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<div id="model-results"') and "<html" not in fragment
    assert {s for s in rows_of(fragment)} == {
        s for s, m in SEED_MODELS.items() if m["family"] == "flux"
    }
    assert "HX-Request" in response.headers["Vary"]
    assert "HX-Request" in client.get("/models").headers["Vary"]


def test_catalog_says_when_nothing_matches_and_tolerates_bad_input(seeded):
    client = seeded.test_client()
    page = get_page(client, "/models?q=no-such-model-anywhere")
    assert "No models match “no-such-model-anywhere”" in page and "<table" not in page
    fragment = client.get("/models?q=%25", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No models match" in fragment
    page = get_page(client, "/models?sort=bogus&q=" + "x" * 500)
    assert "sorted by overall rating" in page


# --- issue 14: our own "Best For", whole-word captions, links -----------------------------------


def test_model_page_best_for_is_our_own_text_not_vendor_copy(seeded):
    page = get_page(seeded.test_client(), f"/models/{HIDREAM}")
    best_for = text_of(page.split("<h3>Best For</h3>")[1].split("</section>")[0])
    assert "Written by Arena from its own records" in best_for
    assert "Budget: It starts at $0.0050/image through Replicate" in best_for
    assert "Licence: Its licence is MIT." in best_for
    for vendor in ("playground", "Lumenfall", "unified API"):
        assert vendor.lower() not in text_of(page).lower(), vendor


def test_model_page_curated_captions_end_at_a_word_with_the_full_prompt_kept(seeded):
    page = get_page(seeded.test_client(), f"/models/{HIDREAM}")
    boutique = SEED_MODELS[HIDREAM]["curated_prompts"][0]  # stops mid-word in the seed
    summaries = re.findall(r'<summary title="([^"]*)">([^<]*)</summary>', page)
    captions = {html.unescape(title): html.unescape(caption) for title, caption in summaries}
    caption = captions[boutique]  # the full text is in the title and behind the summary
    assert caption.endswith("…") and len(caption) <= 91
    shown = caption.removesuffix("…")
    assert boutique.startswith(shown) and boutique[len(shown)] == " "  # cut at a word
    assert "glass wind" not in caption
    assert f"Full prompt: {boutique}" in text_of(page)


def test_model_page_has_a_links_section(seeded):
    page = get_page(seeded.test_client(), f"/models/{HIDREAM}")
    links = page.split('<section id="links"')[1].split("</section>")[0]
    for href in (
        "https://fal.ai/models/fal-ai/hidream-i1-fast",
        "https://replicate.com/prunaai/hidream-l1-fast",
        f"/v1/models/{HIDREAM}?schema=true",
        "/api/openapi.json",
        "/leaderboard",
        "/leaderboard/competition/fantasy-warrior",
        "/gallery",
    ):
        assert f'href="{href}"' in links, href
    assert 'href="#links"' in page  # in the table of contents
    assert ">Fantasy Warrior · edition 2<" in links  # editions named, not slugs


def test_model_page_shows_open_results_without_images(voting_app, votes):
    votes.cast(20, seed=5)
    page = get_page(voting_app.test_client(), f"/models/{HIDREAM}")
    results = page.split("<h3>Arena Competition Results</h3>")[1].split("<h3>Curated")[0]
    assert "Fantasy Warrior · edition 2" in results
    assert "images hidden while voting is open" in results
    assert "/arena/" not in results and "no battles" not in results
