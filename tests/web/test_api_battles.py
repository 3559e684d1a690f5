"""The battle and vote JSON API: shapes, status codes, anonymity of the images."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from arena.models import Model, Vote
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


@pytest.fixture
def api(voting_app):
    return voting_app.test_client()


def _battle(client, competition=COMPETITION):
    response = client.post("/api/v1/battles", json={"competition": competition})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _model_slugs(app) -> list[str]:
    with app.app_context(), get_db().session() as session:
        return list(session.scalars(select(Model.slug)))


def test_create_battle_returns_the_contract_shape_and_no_model_identity(api, voting_app):
    response = api.post("/api/v1/battles", json={"competition": COMPETITION})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "competition", "prompt", "left", "right", "expires_at"}
    assert body["competition"] == COMPETITION and body["prompt"]
    assert set(body["left"]) == {"image_url"} and set(body["right"]) == {"image_url"}
    assert body["expires_at"].endswith("Z")
    text = response.get_data(as_text=True)
    for slug in _model_slugs(voting_app):
        assert slug not in text
    assert "arena" in response.headers.get("Set-Cookie", "")


def test_create_battle_without_body_picks_a_competition(api):
    response = api.post("/api/v1/battles")
    assert response.status_code == 201
    assert response.get_json()["competition"] in {COMPETITION, "heroic-super-hero-portrait"}


def test_battle_images_are_same_format_and_size_with_no_metadata(api, voting_app):
    body = _battle(api)
    blobs = []
    for side in ("left", "right"):
        url = body[side]["image_url"]
        assert url.rsplit("/", 1)[1].count(".") == 1  # <opaque key>.webp, nothing else
        response = api.get(url.replace("http://localhost", ""))
        assert response.status_code == 200 and response.mimetype == "image/webp"
        blobs.append(response.data)
        for slug in _model_slugs(voting_app):
            assert slug.encode() not in response.data
    images = [Image.open(io.BytesIO(b)) for b in blobs]
    assert {im.format for im in images} == {"WEBP"}
    assert images[0].size == images[1].size == (96, 64)
    for im in images:
        assert not im.info.get("exif") and not im.info.get("icc_profile") and not im.info.get("xmp")
    assert api.get("/battle-images/" + "0" * 32 + ".webp").status_code == 404
    assert api.get("/battle-images/../../etc/passwd.webp").status_code == 404


def test_vote_returns_both_models_with_elo_before_and_after(api):
    token = _battle(api)["token"]
    response = api.post(f"/api/v1/battles/{token}/vote", json={"winner": "right"})
    assert response.status_code == 200
    body = response.get_json()
    for side in ("left", "right"):
        assert {"model_id", "elo_before", "elo_after"} <= set(body[side])
    assert body["right"]["elo_after"] == 1016.0 and body["left"]["elo_after"] == 984.0
    assert set(body["left"]["scopes"]) == {"overall", "category", "competition"}


def test_vote_twice_is_409_and_unknown_token_is_404(api, voting_app):
    token = _battle(api)["token"]
    assert api.post(f"/api/v1/battles/{token}/vote", json={"winner": "tie"}).status_code == 200
    second = api.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
    assert second.status_code == 409
    assert second.get_json()["error"]["message"] == "this battle already has its vote"
    assert api.post("/api/v1/battles/nope/vote", json={"winner": "left"}).status_code == 404
    long_url = "/api/v1/battles/" + "x" * 500 + "/vote"
    assert api.post(long_url, json={"winner": "left"}).status_code == 404
    with voting_app.app_context(), get_db().session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": "not json", "content_type": "application/json"}, None),
        ({"json": ["left"]}, None),
        ({"json": {}}, "winner"),
        ({"json": {"winner": "LEFT"}}, "winner"),
        ({"json": {"winner": 1}}, "winner"),
        ({"json": {"winner": None}}, "winner"),
    ],
)
def test_vote_bad_body_is_400_with_a_json_message(api, kwargs, field):
    token = _battle(api)["token"]
    response = api.post(f"/api/v1/battles/{token}/vote", **kwargs)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["message"]
    assert error.get("field") == field


def test_vote_from_another_voter_is_forbidden(api, voting_app):
    token = _battle(api)["token"]
    stranger = voting_app.test_client()
    response = stranger.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
    assert response.status_code == 403
    assert api.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"competition": "no-such"}, 404),
        ({"competition": "storefront-signage"}, 409),
        ({"competition": 7}, 400),
        ({"competition": ["a"]}, 400),
    ],
)
def test_create_battle_bad_competition(api, body, status):
    response = api.post("/api/v1/battles", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
