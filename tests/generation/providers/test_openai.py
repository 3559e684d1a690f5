"""The openai adapter against a local OpenAI-compatible ``/images/generations`` server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arena.generation.base import ImageRequest, ProviderError
from arena.generation.providers.openai import OpenAIProvider
from tests.generation.providers.servers import FakeOpenAI, Reply

TUNING = {"timeout_s": 5.0}


@pytest.fixture
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def provider(server: FakeOpenAI, key: str = "test-key", **tuning) -> OpenAIProvider:
    return OpenAIProvider(key, server.url, **{**TUNING, **tuning})


def request(**changes) -> ImageRequest:
    fields = {
        "model_id": "hidream-i1-fast",
        "provider_model_id": "hidream-i1-fast",
        "prompt": "a paladin at dawn",
        "negative_prompt": "text",
        "seed": 11,
        "width": 96,
        "height": 64,
        "extra": {"quality": "high", "speed_mode": "x", "num_inference_steps": 4},
    }
    return ImageRequest(**{**fields, **changes})


def test_openai_upstream_generates_an_inline_image(upstream):
    result = provider(upstream).generate(request())

    assert (result.format, result.width, result.height) == ("png", 96, 64)
    call = upstream.calls("generate")[0]
    assert call.path == "/images/generations"
    assert call.headers["authorization"] == "Bearer test-key"
    assert call.body == {
        "model": "hidream-i1-fast",
        "prompt": "a paladin at dawn",
        "n": 1,
        "size": "96x64",
        "response_format": "b64_json",
        "negative_prompt": "text",
        "seed": 11,
        "quality": "high",
    }
    assert not upstream.calls("download")


def test_openai_dall_e_3_gets_an_allowed_size_and_no_foreign_fields(upstream):
    result = provider(upstream).generate(
        request(provider_model_id="dall-e-3", width=1820, height=1024, extra={"style": "vivid"})
    )

    assert upstream.calls("generate")[0].body == {
        "model": "dall-e-3",
        "prompt": "a paladin at dawn",
        "n": 1,
        "size": "1792x1024",
        "response_format": "b64_json",
        "style": "vivid",
    }
    assert (result.width, result.height) == (1792, 1024)


def test_openai_gpt_image_gets_no_response_format(upstream):
    provider(upstream).generate(request(provider_model_id="gpt-image-1", width=768, height=1024))

    body = upstream.calls("generate")[0].body
    assert body["size"] == "1024x1536"
    assert "response_format" not in body and "seed" not in body


def test_openai_upstream_answering_with_a_url_is_downloaded(upstream):
    upstream.script(
        "generate",
        Reply.json(200, {"created": 1, "data": [{"url": upstream.store_image("u1", 40, 30)}]}),
    )

    result = provider(upstream).generate(request())

    assert (result.width, result.height) == (40, 30)
    assert "authorization" not in upstream.calls("download")[0].headers


def test_openai_upstream_error_quotes_the_error_object(upstream):
    upstream.script(
        "generate",
        FakeOpenAI.error(
            400,
            "Your request was rejected by the safety system.",
            "invalid_request_error",
            "content_policy_violation",
        ),
    )

    with pytest.raises(ProviderError, match=r"HTTP 400.*safety system.*content_policy") as caught:
        provider(upstream).generate(request())

    assert not caught.value.retryable and caught.value.provider == "openai"


def test_openai_upstream_auth_failure_is_not_retryable(upstream):
    with pytest.raises(ProviderError, match=r"HTTP 401.*Incorrect API key") as caught:
        provider(upstream, key="wrong-key").generate(request())

    assert not caught.value.retryable


def test_openai_upstream_rate_limit_is_retryable_with_its_retry_after(upstream):
    reply = FakeOpenAI.error(429, "Rate limit reached", "requests", "rate_limit_exceeded")
    reply.headers["Retry-After"] = "2"
    upstream.script("generate", reply)

    with pytest.raises(ProviderError, match=r"HTTP 429.*Rate limit reached") as caught:
        provider(upstream).generate(request())

    assert caught.value.retryable and caught.value.retry_after == 2


def test_openai_upstream_retry_after_ms_wins(upstream):
    reply = FakeOpenAI.error(429, "slow down", "requests", "rate_limit_exceeded")
    reply.headers.update({"Retry-After": "20", "retry-after-ms": "1500"})
    upstream.script("generate", reply)

    with pytest.raises(ProviderError) as caught:
        provider(upstream).generate(request())

    assert caught.value.retry_after == 1.5


def test_openai_upstream_server_error_is_retryable(upstream):
    upstream.script(
        "generate", FakeOpenAI.error(500, "The server had an error", "server_error", None)
    )

    with pytest.raises(ProviderError, match=r"HTTP 500.*server had an error") as caught:
        provider(upstream).generate(request())

    assert caught.value.retryable


def test_openai_upstream_malformed_json_is_a_clear_error(upstream):
    upstream.script("generate", Reply.malformed())

    with pytest.raises(ProviderError, match="malformed JSON") as caught:
        provider(upstream).generate(request())

    assert not caught.value.retryable


def test_openai_upstream_malformed_base64_is_a_clear_error(upstream):
    upstream.script("generate", Reply.json(200, {"created": 1, "data": [{"b64_json": "%%%"}]}))

    with pytest.raises(ProviderError, match="malformed base64") as caught:
        provider(upstream).generate(request())

    assert not caught.value.retryable


def test_openai_upstream_answer_without_images_is_an_error(upstream):
    upstream.script("generate", Reply.json(200, {"created": 1, "data": []}))

    with pytest.raises(ProviderError, match="no images") as caught:
        provider(upstream).generate(request())

    assert not caught.value.retryable


def test_openai_upstream_timeout_is_retryable(upstream):
    upstream.script("generate", Reply.slow(1.0))

    with pytest.raises(ProviderError, match="timed out") as caught:
        provider(upstream, timeout_s=0.2).generate(request())

    assert caught.value.retryable


def test_openai_without_a_credential_fails_clearly():
    with pytest.raises(ProviderError, match="set OPENAI_API_KEY") as caught:
        OpenAIProvider(None, "http://127.0.0.1:9").generate(request())

    assert not caught.value.retryable
