"""The catalog service: listing, prices, parameter schemas, performance, model pages, galleries."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from sqlalchemy import select, update

from arena.errors import NotFound, ValidationError
from arena.media import image_path, new_image_name
from arena.models import Competition, Model, Output, Prompt
from arena.services import catalog, generation, voting
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parents[2]
SEED_MODELS = {
    data["id"]: data
    for data in (yaml.safe_load(p.read_text()) for p in (ROOT / "seeds" / "models").glob("*.yaml"))
}
HIDREAM = "hidream-i1-fast"


@pytest.fixture
def session(seeded):
    with seeded.app_context(), get_db().session() as session:
        yield session


@pytest.mark.parametrize(
    ("unit", "usd", "label"),
    [
        ("per_megapixel", "0.010", "$0.010/megapixel"),
        ("per_image", "0.0050", "$0.0050/image"),
        ("per_image", "0.04", "$0.040/image"),
        ("per_image", "0.025", "$0.025/image"),
        ("per_image", "0.003", "$0.0030/image"),
        ("per_image", "1.5", "$1.5/image"),
        ("per_image", "12", "$12/image"),
        ("per_image", "0", "$0.00/image"),
    ],
)
def test_format_price_uses_two_significant_figures(unit, usd, label):
    assert catalog.format_price(unit, Decimal(usd)) == label


def test_format_price_refuses_unknown_units():
    with pytest.raises(ValueError, match="unknown pricing unit"):
        catalog.format_price("per_second", Decimal("1"))


def test_cheapest_compares_units_by_one_1024_image_and_ignores_unknown():
    per_mp = catalog.Price("per_megapixel", Decimal("0.010"), "fal", "fal.ai")  # ~$0.0105
    per_image = catalog.Price("per_image", Decimal("0.0050"), "replicate", "Replicate")
    assert catalog.cheapest([per_mp, None, per_image]) is per_image
    assert catalog.cheapest([per_mp, None]) is per_mp
    assert catalog.cheapest([None, None]) is None
    assert catalog.cheapest([]) is None


def test_list_models_lists_every_seeded_model_with_cheapest_known_price(session):
    rows = {r.slug: r for r in catalog.list_models(session)}
    assert set(rows) == set(SEED_MODELS)
    hidream = rows[HIDREAM]
    assert (hidream.creator, hidream.family, hidream.status) == ("HiDream AI", "hidream", "active")
    assert hidream.cheapest is not None and hidream.cheapest.label == "$0.0050/image"
    assert hidream.cheapest.provider == "replicate"
    assert rows["sdxl"].cheapest is None  # two offerings, both without a published price
    assert rows["lumina-image-2"].cheapest is None  # no offering at all
    assert all(r.elo is None and r.battles == 0 for r in rows.values())


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hidream", {"hidream-i1-fast", "hidream-i1-dev", "hidream-i1-full"}),
        ("HIDREAM i1 FAST", {"hidream-i1-fast"}),  # name, case-insensitive
        (
            "black forest",
            {s for s, m in SEED_MODELS.items() if m["creator"] == "Black Forest Labs"},
        ),
        ("open-weights", {s for s, m in SEED_MODELS.items() if "open-weights" in m["tags"]}),
        (
            "stable-diffusion",
            {s for s, m in SEED_MODELS.items() if m["family"] == "stable-diffusion"},
        ),
        ("%", set()),  # LIKE wildcards are searched literally
        ("no-such-model-anywhere", set()),
    ],
)
def test_list_models_searches_name_slug_creator_family_and_tags(session, q, expected):
    assert {r.slug for r in catalog.list_models(session, q=q)} == expected


def test_list_models_filters_combine(session):
    def slugs(**filters):
        return {r.slug for r in catalog.list_models(session, **filters)}

    assert slugs(creator="HiDream AI") == {"hidream-i1-fast", "hidream-i1-dev", "hidream-i1-full"}
    assert slugs(family="flux") == {s for s, m in SEED_MODELS.items() if m["family"] == "flux"}
    open_weights = {s for s, m in SEED_MODELS.items() if "open-weights" in m["tags"]}
    assert slugs(tag="open-weights") == open_weights
    assert slugs(tag="open") == set()  # a tag matches whole, not in part
    assert slugs(creator="HiDream AI", tag="open-weights") == {"hidream-i1-dev", "hidream-i1-full"}
    assert slugs(status="active") == set(SEED_MODELS)
    assert slugs(status="deprecated") == set()


def test_list_models_sorts_by_name_or_by_overall_elo_with_unrated_last(voting_app):
    with voting_app.app_context():
        db = get_db()
        voter = voting.ensure_voter(db, None)
        rng = random.Random(4)
        for _ in range(30):
            battle = voting.issue_battle(db, voter, "fantasy-warrior-ii", rng=rng)
            voting.record_vote(db, battle.token, voter, rng.choice(["left", "right"]), k=32)
        with db.session() as session:
            by_name = [r.name for r in catalog.list_models(session, sort="name")]
            rows = catalog.list_models(session, sort="rating")
    assert by_name == sorted(by_name)
    rated = [r for r in rows if r.battles]
    unrated = [r for r in rows if not r.battles]
    assert rows == rated + unrated and len(rated) >= 2
    assert [r.elo for r in rated] == sorted((r.elo for r in rated), reverse=True)
    assert all(r.elo is None for r in unrated)
    assert [r.name for r in unrated] == sorted(r.name for r in unrated)


def test_list_models_refuses_an_unknown_sort(session):
    with pytest.raises(ValidationError, match="sort must be one of"):
        catalog.list_models(session, sort="price")


def test_catalog_filters_come_from_the_data(session):
    filters = catalog.catalog_filters(session)
    assert "HiDream AI" in filters.creators and "Black Forest Labs" in filters.creators
    assert filters.families == sorted({m["family"] for m in SEED_MODELS.values()}, key=str.lower)
    assert filters.tags == sorted({t for m in SEED_MODELS.values() for t in m["tags"]})
    assert filters.statuses == ["active"]


def test_parameter_schema_is_valid_json_schema_with_all_sixteen_parameters(session):
    schema = catalog.parameter_schema(catalog.get_model(session, HIDREAM))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["prompt"] and schema["additionalProperties"] is False
    props = schema["properties"]
    assert len(props) == 16
    assert props["n"] == {
        "type": "integer",
        "description": "Number of images to generate",
        "default": 1,
        "minimum": 1,
        "maximum": 4,
    }
    assert props["response_format"]["enum"] == ["url", "b64_json"]
    assert props["response_format"]["default"] == "url"
    assert props["speed_mode"]["x-providers"] == ["replicate"]
    assert props["sync_mode"] == {
        "type": "boolean",
        "description": props["sync_mode"]["description"],
        "x-providers": ["fal"],
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"prompt": "a fox", "n": 2, "response_format": "b64_json"})
    assert not validator.is_valid({"n": 1})  # prompt is required
    assert not validator.is_valid({"prompt": "a fox", "n": "x"})
    assert not validator.is_valid({"prompt": "a fox", "speed_mode": "Ludicrous"})
    assert not validator.is_valid({"prompt": "a fox", "guidance": 7})


def test_get_model_and_model_page_raise_not_found_for_unknown_slugs(session):
    with pytest.raises(NotFound):
        catalog.get_model(session, "no-such-model")
    with pytest.raises(NotFound):
        catalog.model_page(session, "no-such-model")


def test_model_page_without_votes_or_outputs_has_catalog_facts_and_empty_arena(session):
    page = catalog.model_page(session, HIDREAM)
    assert [g.title for g in page.parameter_groups] == [
        "Core Parameters",
        "Size & Layout",
        "Output & Format",
        "Additional Parameters",
    ]
    assert [p.name for p in page.parameter_groups[0].parameters] == [
        "prompt",
        "negative_prompt",
        "seed",
    ]
    assert [(o.provider, o.config_key, o.price and o.price.label) for o in page.offerings] == [
        ("fal", "fal/hidream-i1-fast", "$0.010/megapixel"),
        ("replicate", "replicate/hidream-i1-fast", "$0.0050/image"),
    ]
    assert page.offerings[1].notes == [
        "PrunaAI optimized version of HiDream L1",
        "~$0.014 per image (71 runs per $1)",
    ]
    assert page.cheapest is not None and page.cheapest.provider == "replicate"
    assert page.overall is None and page.competitions == [] and page.categories == []
    assert page.all_performance is None and page.arena_images == []
    assert [c.n for c in page.curated] == [1, 2]
    assert set(page.about) == {"strengths", "limitations", "technical_background", "best_for"}


def _add_output(session, model_id, prompt_id, status, provider, latency):
    session.add(
        Output(
            prompt_id=prompt_id,
            model_id=model_id,
            status=status,
            provider=provider,
            image_name=new_image_name("png") if status == "done" else None,
            format="png" if status == "done" else None,
            latency_ms=latency if status == "done" else None,
        )
    )


def test_generation_performance_gives_p50_success_rate_and_images_per_provider(session):
    model_id = session.scalar(select(Model.id).where(Model.slug == HIDREAM))
    prompts = session.scalars(select(Prompt.id).order_by(Prompt.id)).all()
    outcomes = [
        ("done", "fal", 100),
        ("done", "fal", 400),
        ("done", "fal", 200),
        ("failed", "fal", None),
        ("done", "replicate", 50),
        ("failed", None, None),  # every route failed: attributed to no provider
        ("pending", None, None),  # not finished: not counted
    ]
    for prompt_id, (status, provider, latency) in zip(prompts, outcomes, strict=False):
        _add_output(session, model_id, prompt_id, status, provider, latency)
    session.commit()
    per_provider, total = catalog.generation_performance(session, model_id)
    assert set(per_provider) == {"fal", "replicate"}
    fal = per_provider["fal"]
    assert (fal.images, fal.failed, fal.p50_latency_ms) == (3, 1, 200)
    assert fal.success_rate == pytest.approx(0.75)
    assert per_provider["replicate"].success_rate == 1.0
    assert total is not None and (total.images, total.failed) == (4, 2)
    assert total.p50_latency_ms == 150  # median of 50, 100, 200, 400
    page = catalog.model_page(session, HIDREAM)
    assert page.offerings[0].performance == fal
    assert page.builtin_performance is None


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
        page = catalog.model_page(session, HIDREAM)
        assert {i.image_name for i in page.arena_images} == set(closed_names)
        assert {i.competition_slug for i in page.arena_images} == {"storefront-signage"}
        for name in open_names:
            with pytest.raises(NotFound):
                catalog.closed_output_image(session, media, HIDREAM, name)
        stored = catalog.closed_output_image(session, media, HIDREAM, closed_names[0])
        assert stored.path == image_path(media, closed_names[0]) and stored.format == "png"
        with pytest.raises(NotFound):  # another model's name for the image
            catalog.closed_output_image(session, media, "sdxl", closed_names[0])

        # A moderator hides one: it leaves the gallery and its URL stops working.
        session.execute(
            update(Output).where(Output.image_name == closed_names[0]).values(hidden=True)
        )
        session.commit()
        page = catalog.model_page(session, HIDREAM)
        assert closed_names[0] not in {i.image_name for i in page.arena_images}
        with pytest.raises(NotFound):
            catalog.closed_output_image(session, media, HIDREAM, closed_names[0])


def test_curated_image_is_rendered_once_and_cached(session, seeded):
    media = seeded.config["MEDIA_DIR"]
    path = catalog.curated_image(session, media, HIDREAM, 2)
    assert path.is_relative_to(Path(media) / "gallery" / HIDREAM)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    mtime = path.stat().st_mtime_ns
    again = catalog.curated_image(session, media, HIDREAM, 2)
    assert again == path and again.stat().st_mtime_ns == mtime
    assert catalog.curated_image(session, media, HIDREAM, 1) != path
    for n in (0, 3):
        with pytest.raises(NotFound):
            catalog.curated_image(session, media, HIDREAM, n)
    with pytest.raises(NotFound):
        catalog.curated_image(session, media, "sdxl", 1)  # no curated prompts


def test_model_created_is_unix_seconds_of_the_row(session):
    model = catalog.get_model(session, HIDREAM)
    assert catalog.model_created(model) == int(model.created_at.timestamp())
