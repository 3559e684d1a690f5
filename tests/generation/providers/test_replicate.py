"""The Replicate adapter against a local server speaking Replicate's predictions protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arena.generation.base import ImageRequest, ProviderError
from arena.generation.providers.replicate import ReplicateProvider
from tests.generation.providers.servers import FakeReplicate, Reply, image_bytes

TUNING = {"poll_interval_s": 0.001, "poll_timeout_s": 5.0, "timeout_s": 5.0, "wait_s": 5}


@pytest.fixture
def replicate() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        yield server


def provider(server: FakeReplicate, key: str = "test-key", **tuning) -> ReplicateProvider:
    return ReplicateProvider(key, server.url, **{**TUNING, **tuning})


def request(**changes) -> ImageRequest:
    fields = {
        "model_id": "sdxl",
        "provider_model_id": "stability-ai/sdxl",
        "prompt": "a knight in winter",
        "negative_prompt": "watermark",
        "seed": 7,
        "width": 96,
        "height": 64,
        "extra": {},
    }
    return ImageRequest(**{**fields, **changes})


def hidream(**changes) -> ImageRequest:
    extra = {
        "speed_mode": "Juiced 🔥 (more speed)",
        "output_quality": 90,
        "model_type": "fast",
        "num_inference_steps": 16,  # fal's: not sent to Replicate
        "output_format": "png",  # ours (we re-encode): not sent upstream
    }
    fields = {"model_id": "hidream-i1-fast", "provider_model_id": "prunaai/hidream-l1-fast"}
    return request(**{**fields, "extra": extra, **changes})


def test_replicate_creates_a_prediction_and_downloads_its_output(replicate):
    result = provider(replicate).generate(request())

    assert (result.format, result.width, result.height) == ("webp", 96, 64)
    assert [r.step for r in replicate.requests] == ["create", "download"]
    create = replicate.calls("create")[0]
    assert create.path == "/models/stability-ai/sdxl/predictions"
    assert create.headers["authorization"] == "Bearer test-key"
    assert create.headers["prefer"] == "wait=5"
    assert create.body == {
        "input": {
            "prompt": "a knight in winter",
            "negative_prompt": "watermark",
            "seed": 7,
            "width": 96,
            "height": 64,
        }
    }
    assert "authorization" not in replicate.calls("download")[0].headers


def test_replicate_maps_hidream_size_to_its_resolution_list(replicate):
    result = provider(replicate).generate(hidream(width=768, height=1024))

    body = replicate.calls("create")[0].body["input"]
    assert body == {
        "prompt": "a knight in winter",
        "negative_prompt": "watermark",
        "seed": 7,
        "resolution": "880 × 1168 (Portrait)",
        "speed_mode": "Juiced 🔥 (more speed)",
        "output_quality": 90,
        "model_type": "fast",
    }
    assert (result.width, result.height) == (880, 1168)  # what the model really made


def test_replicate_sends_an_aspect_ratio_to_models_that_take_one(replicate):
    provider(replicate).generate(
        request(provider_model_id="black-forest-labs/flux-schnell", width=1024, height=576)
    )

    body = replicate.calls("create")[0].body["input"]
    assert body["aspect_ratio"] == "16:9" and "width" not in body


def test_replicate_polls_a_slow_prediction_until_it_succeeds(replicate):
    replicate.slow_polls = 3

    result = provider(replicate).generate(request())

    assert result.width == 96
    assert len(replicate.calls("get")) == 4
    assert all(r.headers["authorization"] == "Bearer test-key" for r in replicate.calls("get"))


def test_replicate_without_prefer_wait_polls(replicate):
    provider(replicate, wait_s=0).generate(request())

    assert "prefer" not in replicate.calls("create")[0].headers
    assert len(replicate.calls("get")) == 1


def test_replicate_takes_the_first_of_a_list_output(replicate):
    replicate.output_list = True

    assert provider(replicate).generate(request()).height == 64


def test_replicate_pinned_version_uses_the_predictions_endpoint(replicate):
    provider(replicate).generate(request(provider_model_id="stability-ai/sdxl:39ed52f2a78e"))

    create = replicate.calls("create")[0]
    assert create.path == "/predictions"
    assert create.body["version"] == "39ed52f2a78e"
    assert create.body["input"]["width"] == 96


def test_replicate_failed_prediction_reports_its_error(replicate):
    replicate.fail_with = "NSFW content detected"

    with pytest.raises(ProviderError, match="failed: NSFW content detected") as caught:
        provider(replicate).generate(request())

    assert not caught.value.retryable and caught.value.provider == "replicate"


def test_replicate_rate_limit_is_retryable_with_its_retry_after(replicate):
    replicate.script(
        "create",
        Reply.json(
            429,
            {"title": "Too Many Requests", "detail": "Request was throttled.", "status": 429},
            retry_after="3",
        ),
    )

    with pytest.raises(ProviderError, match=r"HTTP 429.*throttled") as caught:
        provider(replicate).generate(request())

    assert caught.value.retryable and caught.value.retry_after == 3


def test_replicate_server_error_is_retryable(replicate):
    replicate.script(
        "create", Reply(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    )

    with pytest.raises(ProviderError, match=r"HTTP 502.*Bad Gateway") as caught:
        provider(replicate).generate(request())

    assert caught.value.retryable


def test_replicate_malformed_json_is_a_clear_error(replicate):
    replicate.script("create", Reply.malformed())

    with pytest.raises(ProviderError, match="malformed JSON") as caught:
        provider(replicate).generate(request())

    assert not caught.value.retryable


def test_replicate_auth_failure_quotes_the_problem_details(replicate):
    with pytest.raises(ProviderError, match=r"HTTP 401.*valid authentication token") as caught:
        provider(replicate, key="wrong-key").generate(request())

    assert not caught.value.retryable


def test_replicate_invalid_input_is_not_retryable(replicate):
    replicate.script(
        "create",
        Reply.json(
            422,
            {
                "title": "Input validation failed",
                "detail": "- input.width: Must be greater than or equal to 256",
                "status": 422,
            },
        ),
    )

    with pytest.raises(ProviderError, match=r"Input validation failed.*width") as caught:
        provider(replicate).generate(request())

    assert not caught.value.retryable


def test_replicate_gives_up_on_a_prediction_that_never_finishes_and_cancels_it(replicate):
    replicate.slow_polls = 10_000

    with pytest.raises(ProviderError, match="not finished") as caught:
        provider(replicate, poll_timeout_s=0.05).generate(request())

    assert caught.value.retryable
    assert len(replicate.calls("cancel")) == 1


def test_replicate_success_without_output_is_an_error(replicate):
    replicate.script(
        "create",
        Reply.json(201, {"id": "p1", "status": "succeeded", "output": None, "urls": {}}),
    )

    with pytest.raises(ProviderError, match="without a file URL") as caught:
        provider(replicate).generate(request())

    assert not caught.value.retryable


def test_replicate_sends_the_token_for_files_on_its_own_host(replicate):
    replicate.images["/files/own.png"] = image_bytes(20, 10)
    output = f"{replicate.url}/files/own.png"  # the API's host, not the file host
    replicate.script(
        "create", Reply.json(201, {"id": "p1", "status": "succeeded", "output": output})
    )

    assert provider(replicate).generate(request()).width == 20
    assert replicate.calls("download")[0].headers["authorization"] == "Bearer test-key"


def test_replicate_without_a_credential_fails_clearly():
    with pytest.raises(ProviderError, match="set REPLICATE_API_TOKEN") as caught:
        ReplicateProvider(None, "http://127.0.0.1:9").generate(request())

    assert not caught.value.retryable
