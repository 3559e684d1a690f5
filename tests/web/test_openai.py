"""The OpenAI-compatible image endpoint, driven by the official `openai` Python client."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import openai
import pytest
from PIL import Image
from sqlalchemy import select

from arena.models import ApiUsage
from arena.services.api_keys import create_key, revoke_key
from arena.services.seeding import load_seeds
from arena.web.db import get_db

MODEL = "hidream-i1-fast"


@pytest.fixture
def gateway(app, small_seeds, live_server):
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
        key = create_key(session, "tests")
    client = openai.OpenAI(api_key=key, base_url=f"{live_server}/openai/v1", max_retries=0)
    yield app, client, key, live_server
    client.close()


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_generate_returns_a_url_to_the_image(gateway):
    _, client, _, _ = gateway
    response = client.images.generate(model=MODEL, prompt="a red fox", size="256x192")
    assert response.created > 0 and len(response.data) == 1
    assert response.data[0].revised_prompt == "a red fox"
    fetched = httpx.get(response.data[0].url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert _image(fetched.content).size == (256, 192)
    assert MODEL not in response.data[0].url


def test_generate_b64_json_with_a_ratio_and_webp(gateway):
    _, client, _, _ = gateway
    response = client.images.generate(
        model=MODEL,
        prompt="golden sunset over the sea",
        size="16:9",
        response_format="b64_json",
        extra_body={"output_format": "webp", "seed": 7},
    )
    image = _image(base64.b64decode(response.data[0].b64_json))
    assert image.format == "WEBP" and image.size == (1360, 768)


def test_generate_aspect_ratio_and_resolution_tier(gateway):
    _, client, _, _ = gateway
    response = client.images.generate(
        model=MODEL,
        prompt="a tower",
        response_format="b64_json",
        extra_body={"aspect_ratio": "9:16", "resolution": "1K"},
    )
    assert _image(base64.b64decode(response.data[0].b64_json)).size == (768, 1360)


def test_generate_several_images_at_once_differ(gateway):
    _, client, _, _ = gateway
    response = client.images.generate(
        model=MODEL, prompt="blue birds", n=3, size="128x128", response_format="b64_json"
    )
    blobs = [d.b64_json for d in response.data]
    assert len(blobs) == 3 and len(set(blobs)) == 3


@pytest.mark.parametrize(
    ("fmt", "pillow"),
    [("png", "PNG"), ("jpeg", "JPEG"), ("gif", "GIF"), ("webp", "WEBP"), ("avif", "AVIF")],
)
def test_generate_every_output_format(gateway, fmt, pillow):
    _, client, _, _ = gateway
    response = client.images.generate(
        model=MODEL,
        prompt="green hills",
        size="128x96",
        response_format="b64_json",
        extra_body={"output_format": fmt, "output_compression": 60},
    )
    image = _image(base64.b64decode(response.data[0].b64_json))
    assert image.format == pillow and image.size == (128, 96)


def test_generate_reports_provider_and_cost_headers_and_usage(gateway):
    app, client, _, _ = gateway
    raw = client.images.with_raw_response.generate(model=MODEL, prompt="a cat", size="128x128")
    assert raw.headers["X-Arena-Provider"] == "builtin"
    assert Decimal(raw.headers["X-Arena-Cost-USD"]) == 0
    with app.app_context(), get_db().session() as session:
        usage = session.scalars(select(ApiUsage)).all()
    assert len(usage) == 1
    assert (usage[0].provider, usage[0].images, usage[0].status) == ("builtin", 1, 200)
    assert usage[0].megapixels == pytest.approx(128 * 128 / 1e6)


def test_generate_errors_are_openai_shaped(gateway):
    app, client, _, base = gateway
    with pytest.raises(openai.NotFoundError) as missing:
        client.images.generate(model="no-such-model", prompt="x")
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad_n:
        client.images.generate(model=MODEL, prompt="x", n=99)
    assert bad_n.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as bad_format:
        client.images.generate(model=MODEL, prompt="x", extra_body={"output_format": "bmp"})
    assert bad_format.value.body["param"] == "output_format"
    with pytest.raises(openai.BadRequestError) as unknown:
        client.images.generate(model=MODEL, prompt="x", extra_body={"colour": "red"})
    assert unknown.value.body["param"] == "colour"
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.images.generate(model=MODEL, prompt="x", size="9000x10")
    assert bad_size.value.body["param"] == "size"
    with pytest.raises(openai.BadRequestError) as no_prompt:
        client.images.generate(model=MODEL, prompt="", extra_body={"prompt": None})
    assert no_prompt.value.status_code == 400

    wrong = openai.OpenAI(api_key="arena-wrong", base_url=f"{base}/openai/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.images.generate(model=MODEL, prompt="x")
    wrong.close()
    with app.app_context(), get_db().session() as session:
        revoke_key(session, "tests")
    with pytest.raises(openai.AuthenticationError) as revoked:
        client.images.generate(model=MODEL, prompt="x")
    assert "revoked" in revoked.value.body["message"]


def test_generate_refuses_non_json_and_missing_auth(gateway):
    _, _, key, base = gateway
    url = f"{base}/openai/v1/images/generations"
    assert httpx.post(url, json={"model": MODEL, "prompt": "x"}).status_code == 401
    response = httpx.post(url, content=b"{not json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert httpx.get(f"{base}/openai/v1/images/../../etc/passwd").status_code == 404


def test_generate_works_for_every_seeded_model(gateway):
    _, client, _, _ = gateway
    models = [m.id for m in client.models.list().data]
    assert len(models) >= 21 and MODEL in models
    for model in models:
        response = client.images.generate(
            model=model, prompt="a lighthouse at dusk", size="96x64", response_format="b64_json"
        )
        assert _image(base64.b64decode(response.data[0].b64_json)).size == (96, 64), model
