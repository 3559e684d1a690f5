"""The models API: OpenAI list shape, one model, its compiled JSON Schema, JSON 404s."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from sqlalchemy import select, update

from arena.models import Model
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parents[2]
SEED_MODELS = {
    data["id"]: data
    for data in (yaml.safe_load(p.read_text()) for p in (ROOT / "seeds" / "models").glob("*.yaml"))
}
HIDREAM = "hidream-i1-fast"
TYPES = {
    "prompt": "string", "negative_prompt": "string", "seed": "integer", "size": "string",
    "aspect_ratio": "string", "resolution": "string", "response_format": "string",
    "output_format": "string", "output_compression": "integer", "n": "integer",
    "enable_safety_checker": "boolean", "model_type": "string", "num_inference_steps": "integer",
    "output_quality": "integer", "speed_mode": "string", "sync_mode": "boolean",
}  # fmt: skip


@pytest.mark.parametrize("url", ["/v1/models", "/openai/v1/models"])
def test_models_list_has_the_openai_shape(seeded, url):
    response = seeded.test_client().get(url)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == sorted(SEED_MODELS)
    with seeded.app_context(), get_db().session() as session:
        created = {m.slug: m.created_at for m in session.scalars(select(Model))}
    for item in body["data"]:
        assert item["object"] == "model"
        assert item["created"] == int(created[item["id"]].timestamp())
        assert item["owned_by"] == SEED_MODELS[item["id"]]["creator"]
        assert item["name"] == SEED_MODELS[item["id"]]["name"]
        assert item["modes"] == ["Text to Image"] and item["status"] == "active"
        assert item["tags"] == SEED_MODELS[item["id"]]["tags"]
        assert item["arena"] is None  # no battles yet
        assert "schema" not in item


def test_model_object_carries_catalog_fields_and_providers(seeded):
    client = seeded.test_client()
    body = client.get(f"/v1/models/{HIDREAM}").get_json()
    assert body["id"] == HIDREAM and body["object"] == "model"
    assert (body["owned_by"], body["family"], body["status"]) == ("HiDream AI", "hidream", "active")
    assert body["input_modalities"] == ["text"] and body["output_modalities"] == ["image"]
    assert body["url"] == f"http://localhost/models/{HIDREAM}"
    assert "schema" not in body
    fal, replicate = body["providers"]
    assert (fal["config_key"], fal["provider_model_id"]) == (
        "fal/hidream-i1-fast",
        "fal-ai/hidream-i1-fast",
    )
    assert fal["pricing"] == {"unit": "per_megapixel", "usd": 0.01, "label": "$0.010/megapixel"}
    assert replicate["pricing"]["label"] == "$0.0050/image"
    assert replicate["notes"] == [
        "PrunaAI optimized version of HiDream L1",
        "~$0.014 per image (71 runs per $1)",
    ]
    sdxl = client.get("/openai/v1/models/sdxl").get_json()
    assert [p["pricing"] for p in sdxl["providers"]] == [None, None]  # unknown, not invented
    assert client.get(f"/v1/models/{HIDREAM}?schema=false").get_json().get("schema") is None


def test_model_schema_lists_all_sixteen_parameters_as_json_schema(seeded):
    body = seeded.test_client().get(f"/v1/models/{HIDREAM}?schema=true").get_json()
    schema = body["schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["required"] == ["prompt"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert {name: p["type"] for name, p in props.items()} == TYPES
    assert all(p["description"] for p in props.values())
    assert props["response_format"]["enum"] == ["url", "b64_json"]
    assert props["output_format"]["enum"] == ["png", "jpeg", "gif", "webp", "avif"]
    assert props["resolution"]["enum"] == ["1K", "2K", "4K"]
    assert props["model_type"]["enum"] == ["fast"]
    assert props["speed_mode"]["enum"] == [
        "Extra Juiced 🚀 (even more speed)",
        "Juiced 🔥 (more speed)",
        "Lightly Juiced 🍊 (more consistent)",
        "Unsqueezed 🍋 (highest quality)",
    ]
    assert props["n"]["default"] == 1 and props["response_format"]["default"] == "url"
    assert props["output_compression"]["minimum"] == 0
    assert props["output_compression"]["maximum"] == 100
    providers = {name: p.get("x-providers") for name, p in props.items() if "x-providers" in p}
    assert providers == {
        "enable_safety_checker": ["fal"],
        "model_type": ["replicate"],
        "num_inference_steps": ["fal"],
        "output_quality": ["replicate"],
        "speed_mode": ["replicate"],
        "sync_mode": ["fal"],
    }
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "prompt": "A red fox in the snow",
        "size": "1024x1024",
        "n": 2,
        "response_format": "b64_json",
        "speed_mode": "Juiced 🔥 (more speed)",
    }
    assert not list(validator.iter_errors(good))
    assert not validator.is_valid({"prompt": "a fox", "n": "x"})
    assert not validator.is_valid({"size": "1024x1024"})  # prompt missing
    assert not validator.is_valid({"prompt": "a fox", "output_format": "bmp"})
    assert not validator.is_valid({"prompt": "a fox", "n": 9})


def test_every_model_schema_is_valid_json_schema(seeded):
    client = seeded.test_client()
    for slug in SEED_MODELS:
        schema = client.get(f"/openai/v1/models/{slug}?schema=1").get_json()["schema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "prompt" in schema["properties"] and schema["required"] == ["prompt"]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/models/no-such-model",
        "/openai/v1/models/no-such-model",
        "/v1/models/no-such-model?schema=true",
    ],
)
def test_unknown_model_is_a_404_json_error(seeded, url):
    response = seeded.test_client().get(url)
    assert response.status_code == 404 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "not_found" and "no-such-model" in error["message"]


def test_models_api_reports_owner_unknown_and_arena_standing(voting_app, votes):
    with voting_app.app_context():
        db = get_db()
        votes.cast(20, choice=("left", "right"), seed=6)
        with db.session() as session:
            session.execute(update(Model).where(Model.slug == "sdxl").values(creator=None))
            session.commit()
    client = voting_app.test_client()
    data = {m["id"]: m for m in client.get("/v1/models").get_json()["data"]}
    assert data["sdxl"]["owned_by"] == "unknown"
    rated = [m["arena"] for m in data.values() if m["arena"]]
    assert rated and sum(a["battles"] for a in rated) == 40  # 20 votes, two sides each
    assert {(a["rank"], a["rank_of"]) for a in rated} == {(None, None)}  # nothing published
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=20, seed=1)
    data = {m["id"]: m for m in client.get("/v1/models").get_json()["data"]}
    rated = [m["arena"] for m in data.values() if m["arena"]]
    assert {a["rank_of"] for a in rated} == {len(rated)} and min(a["rank"] for a in rated) == 1
    assert data["lumina-image-2"]["arena"] is None  # not in fantasy-warrior-ii
