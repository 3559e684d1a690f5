"""One model's page: parameter schema, offerings, generation performance, standings."""

from __future__ import annotations

import jsonschema
import pytest
from sqlalchemy import select

from arena.errors import NotFound
from arena.media import new_image_name
from arena.models import Model, Output, Prompt
from arena.services.catalog import listing, model_page

HIDREAM = "hidream-i1-fast"


def test_parameter_schema_is_valid_json_schema_with_all_sixteen_parameters(session):
    schema = model_page.parameter_schema(listing.get_model(session, HIDREAM))
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


@pytest.mark.parametrize(
    ("text", "caption"),
    [
        ("A red fox", "A red fox"),
        ("  A  red\nfox ", "A red fox"),
        ("one two three four", "one two…"),
        ("one two, three four", "one two…"),
        ("abcdefghijklmnop", "abcdefghij…"),
    ],
)
def test_excerpt_cuts_at_a_word_with_an_ellipsis(text, caption):
    assert model_page.excerpt(text, limit=10) == caption


def test_get_model_and_model_page_raise_not_found_for_unknown_slugs(session):
    with pytest.raises(NotFound):
        listing.get_model(session, "no-such-model")
    with pytest.raises(NotFound):
        model_page.model_page(session, "no-such-model")


def test_model_page_without_votes_or_outputs_has_catalog_facts_and_empty_arena(session):
    page = model_page.model_page(session, HIDREAM)
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
    # "Best For" is Arena's own text from its data; the seed's vendor copy is not used.
    assert set(page.about) == {"strengths", "limitations", "technical_background"}
    best_for = " ".join(f"{line.lead}: {line.text}" for line in page.best_for)
    assert "playground" not in best_for.lower() and "lumenfall" not in best_for.lower()
    assert "Arena results: HiDream I1 Fast has no published arena rank yet" in best_for
    assert "Budget: It starts at $0.0050/image through Replicate" in best_for
    assert "Licence: Its licence is MIT. Check its terms before commercial use." in best_for
    assert '"model": "hidream-i1-fast"' in best_for and "fal.ai and Replicate" in best_for
    # Every competition it is entered in, open ones without images.
    assert {r.slug for r in page.arena_results} >= {"fantasy-warrior", "fantasy-warrior-ii"}
    assert all(r.image is None and r.standing is None for r in page.arena_results)


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
    per_provider, total = model_page.generation_performance(session, model_id)
    assert set(per_provider) == {"fal", "replicate"}
    fal = per_provider["fal"]
    assert (fal.images, fal.failed, fal.p50_latency_ms) == (3, 1, 200)
    assert fal.success_rate == pytest.approx(0.75)
    assert per_provider["replicate"].success_rate == 1.0
    assert total is not None and (total.images, total.failed) == (4, 2)
    assert total.p50_latency_ms == 150  # median of 50, 100, 200, 400
    page = model_page.model_page(session, HIDREAM)
    assert page.offerings[0].performance == fal
    assert page.builtin_performance is None
