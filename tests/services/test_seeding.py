"""Seeding: the reference facts land, reruns change nothing, edits update, errors write nothing.

The reference facts are those of docs/reference-model-page.md.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from arena.errors import SeedError
from arena.models import Competition, Model, Prompt, ProviderOffering, Rating, Scope
from arena.services.seeding import load_seeds
from arena.services.status import competition_status

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def test_seed_loads_every_reference_fact_of_hidream(session):
    load_seeds(session, SEEDS)
    model = session.scalar(select(Model).where(Model.slug == "hidream-i1-fast"))
    assert model.name == "HiDream I1 Fast"
    assert model.summary == "Distilled version of HiDream AI's 17B parameter text-to-image model"
    assert (model.creator, model.family, model.status) == ("HiDream AI", "hidream", "active")
    assert model.input_modalities == ["text"] and model.output_modalities == ["image"]
    assert model.modes == ["Text to Image"]
    assert model.tags == ["image-generation", "text-to-image"]
    assert "capybara calmly waits in line" in model.example_prompt
    params = {p.name: p for p in model.parameters}
    assert len(params) == 16
    assert params["prompt"].required and params["prompt"].group == "core"
    assert params["response_format"].default == "url"
    assert params["response_format"].enum == ["url", "b64_json"]
    assert params["n"].default == 1
    assert params["enable_safety_checker"].providers == ["fal"]
    assert params["speed_mode"].providers == ["replicate"]
    assert len(params["speed_mode"].enum) == 4
    offerings = {o.provider.slug: o for o in model.offerings}
    fal, replicate = offerings["fal"], offerings["replicate"]
    assert fal.config_key == "fal/hidream-i1-fast"
    assert fal.provider_model_id == "fal-ai/hidream-i1-fast"
    assert (fal.pricing_unit, fal.price_usd) == ("per_megapixel", Decimal("0.010"))
    assert replicate.config_key == "replicate/hidream-i1-fast"
    assert replicate.provider_model_id == "prunaai/hidream-l1-fast"
    assert (replicate.pricing_unit, replicate.price_usd) == ("per_image", Decimal("0.005"))
    assert replicate.notes == [
        "PrunaAI optimized version of HiDream L1",
        "~$0.014 per image (71 runs per $1)",
    ]


def test_seed_catalog_and_competitions_meet_the_minimums(session):
    load_seeds(session, SEEDS)
    assert session.scalar(select(func.count()).select_from(Model)) >= 21
    rows = {r["slug"]: r for r in competition_status(session)}
    for slug, name in [
        ("fantasy-warrior", "Fantasy Warrior"),
        ("heroic-super-hero-portrait", "Heroic Super Hero Portrait"),
    ]:
        assert rows[slug]["name"] == name
        assert rows[slug]["category"] == "portrait"
        assert rows[slug]["models"] >= 21 and rows[slug]["prompts"] >= 3
    # Unknown prices stay unknown (null), never a made-up number.
    unpriced = session.scalar(
        select(func.count())
        .select_from(ProviderOffering)
        .where(ProviderOffering.price_usd.is_(None))
    )
    assert unpriced > 0
    prompts = session.scalars(select(Prompt)).all()
    assert all(p.seed is not None and p.width > 0 and p.height > 0 for p in prompts)


def test_seed_creates_scopes_and_rating_rows(session):
    load_seeds(session, SEEDS)
    keys = set(session.scalars(select(Scope.key)))
    assert {"overall", "category:portrait", "competition:fantasy-warrior"} <= keys
    overall = session.scalar(select(Scope).where(Scope.key == "overall"))
    ratings = session.scalars(select(Rating).where(Rating.scope_id == overall.id)).all()
    assert len(ratings) >= 21
    assert all(r.elo == 1000.0 and r.battles == 0 for r in ratings)


def test_seed_second_run_changes_nothing(session):
    first = load_seeds(session, SEEDS)
    before = competition_status(session)
    second = load_seeds(session, SEEDS)
    assert first.changed
    assert not second.changed, second.summary()
    assert competition_status(session) == before


def test_seed_edited_file_updates_the_rows(session, seeds_copy: Path):
    load_seeds(session, seeds_copy)
    model_file = seeds_copy / "models" / "hidream-i1-fast.yaml"
    data = yaml.safe_load(model_file.read_text())
    data["family"] = "hidream-edited"
    data["offerings"][0]["pricing"] = None
    model_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    competitions_file = seeds_copy / "competitions.yaml"
    comps = yaml.safe_load(competitions_file.read_text())
    comps["competitions"][0]["prompts"][0]["seed"] = 999_999
    comps["competitions"][0]["name"] = "Fantasy Warrior (edited)"
    competitions_file.write_text(yaml.safe_dump(comps, allow_unicode=True))

    report = load_seeds(session, seeds_copy)

    assert report.counts["models updated"] == 1
    assert report.counts["offerings updated"] == 1
    assert report.counts["prompts updated"] == 1
    assert report.counts["competitions updated"] == 1
    session.expire_all()
    model = session.scalar(select(Model).where(Model.slug == "hidream-i1-fast"))
    assert model.family == "hidream-edited"
    fal = next(o for o in model.offerings if o.provider.slug == "fal")
    assert fal.price_usd is None and fal.pricing_unit is None
    slug = comps["competitions"][0]["id"]
    competition = session.scalar(select(Competition).where(Competition.slug == slug))
    assert competition.name == "Fantasy Warrior (edited)"
    assert competition.prompts[0].seed == 999_999


def test_seed_malformed_file_names_the_problem_and_writes_nothing(session, seeds_copy: Path):
    competitions_file = seeds_copy / "competitions.yaml"
    comps = yaml.safe_load(competitions_file.read_text())
    comps["competitions"][1]["category"] = "no-such-category"
    competitions_file.write_text(yaml.safe_dump(comps, allow_unicode=True))

    with pytest.raises(SeedError) as excinfo:
        load_seeds(session, seeds_copy)

    assert "competitions.yaml" in str(excinfo.value)
    assert "competitions[1]" in str(excinfo.value)
    assert "no-such-category" in str(excinfo.value)
    assert session.scalar(select(func.count()).select_from(Model)) == 0


@pytest.mark.parametrize(
    ("size", "message"),
    [("1024", "must look like"), ("32x32", "between 64 and 4096"), ("1024x9000", "between")],
)
def test_seed_bad_prompt_size_is_refused(session, seeds_copy: Path, size: str, message: str):
    competitions_file = seeds_copy / "competitions.yaml"
    comps = yaml.safe_load(competitions_file.read_text())
    comps["competitions"][0]["prompts"][2]["size"] = size
    competitions_file.write_text(yaml.safe_dump(comps, allow_unicode=True))
    with pytest.raises(SeedError, match=message):
        load_seeds(session, seeds_copy)
