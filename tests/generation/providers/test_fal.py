"""The fal adapter against a local server speaking fal's queue protocol."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import pytest

from arena.generation import registry
from arena.generation.base import ImageRequest, ProviderError
from arena.generation.providers.fal import FalProvider
from tests.generation.providers.servers import FakeFal, Reply, image_bytes

TUNING = {"poll_interval_s": 0.001, "poll_timeout_s": 5.0, "timeout_s": 5.0}


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    with FakeFal() as server:
        yield server


def provider(server: FakeFal, key: str = "test-key", **tuning: float) -> FalProvider:
    return FalProvider(key, server.url, **{**TUNING, **tuning})


def request(**changes) -> ImageRequest:
    fields = {
        "model_id": "hidream-i1-fast",
        "provider_model_id": "fal-ai/hidream-i1-fast",
        "prompt": "a samurai under the moon",
        "negative_prompt": "blurry",
        "seed": 4242,
        "width": 96,
        "height": 64,
        "extra": {"num_inference_steps": 16, "enable_safety_checker": False, "speed_mode": "x"},
    }
    return ImageRequest(**{**fields, **changes})


def test_fal_generates_an_image_through_the_queue(fal):
    result = provider(fal).generate(request())

    assert (result.format, result.width, result.height) == ("png", 96, 64)
    assert result.data.startswith(b"\x89PNG")
    assert [r.step for r in fal.requests] == ["submit", "status", "result", "download"]
    submit = fal.calls("submit")[0]
    assert submit.path == "/fal-ai/hidream-i1-fast"
    assert submit.headers["authorization"] == "Key test-key"
    assert all(r.headers["authorization"] == "Key test-key" for r in fal.requests[:3])
    assert "authorization" not in fal.calls("download")[0].headers  # no key to file hosts


def test_fal_maps_the_request_to_the_model_input(fal):
    provider(fal).generate(request())

    assert fal.calls("submit")[0].body == {
        "prompt": "a samurai under the moon",
        "negative_prompt": "blurry",
        "seed": 4242,
        "image_size": {"width": 96, "height": 64},
        "num_images": 1,
        "sync_mode": False,
        "num_inference_steps": 16,
        "enable_safety_checker": False,
        # speed_mode is Replicate's: not sent to fal
    }


def test_fal_leaves_out_an_absent_seed_and_negative_prompt(fal):
    provider(fal).generate(request(seed=None, negative_prompt=None, extra={}))

    body = fal.calls("submit")[0].body
    assert "seed" not in body and "negative_prompt" not in body


def test_fal_sends_an_aspect_ratio_to_endpoints_that_take_one(fal):
    result = provider(fal).generate(
        request(provider_model_id="fal-ai/flux-pro/v1.1-ultra", width=768, height=1024)
    )

    body = fal.calls("submit")[0].body
    assert body["aspect_ratio"] == "3:4" and "image_size" not in body
    assert (result.width, result.height) == (48, 64)  # the size actually made is reported


def test_fal_waits_while_the_request_is_queued_and_in_progress(fal):
    fal.slow_polls = 3

    result = provider(fal).generate(request())

    assert result.width == 96
    assert len(fal.calls("status")) == 4


def test_fal_uses_the_status_and_result_urls_it_is_given(fal):
    provider(fal).generate(request(provider_model_id="fal-ai/flux/dev"))

    assert fal.calls("submit")[0].path == "/fal-ai/flux/dev"
    assert fal.calls("status")[0].path.startswith("/fal-ai/flux/requests/")


def test_fal_rate_limit_is_retryable_with_its_retry_after(fal):
    fal.script("submit", Reply.json(429, {"detail": "Too many requests"}, retry_after="7"))

    with pytest.raises(ProviderError, match=r"HTTP 429.*Too many requests") as caught:
        provider(fal).generate(request())

    assert caught.value.retryable and caught.value.retry_after == 7
    assert caught.value.provider == "fal"


def test_fal_retry_after_as_an_http_date_is_understood(fal):
    fal.script(
        "submit", Reply.json(503, {"detail": "busy"}, retry_after="Thu, 01 Jan 1970 0:0:0 GMT")
    )

    with pytest.raises(ProviderError) as caught:
        provider(fal).generate(request())

    assert caught.value.retryable and caught.value.retry_after == 0


def test_fal_server_error_is_retryable(fal):
    fal.script(
        "submit", Reply.json(500, {"detail": "Runner crashed", "error_type": "runner_server_error"})
    )

    with pytest.raises(ProviderError, match=r"HTTP 500.*Runner crashed") as caught:
        provider(fal).generate(request())

    assert caught.value.retryable and caught.value.retry_after is None


def test_fal_malformed_json_is_a_clear_error_not_retried(fal):
    fal.script("submit", Reply.malformed())

    with pytest.raises(
        ProviderError, match=r"malformed JSON from POST .*/fal-ai/hidream"
    ) as caught:
        provider(fal).generate(request())

    assert not caught.value.retryable


def test_fal_submit_answer_without_urls_is_a_clear_error(fal):
    fal.script("submit", Reply.json(200, {"request_id": "x"}))

    with pytest.raises(ProviderError, match="no 'status_url'") as caught:
        provider(fal).generate(request())

    assert not caught.value.retryable


def test_fal_auth_failure_is_not_retryable_and_quotes_fal(fal):
    with pytest.raises(ProviderError, match=r"HTTP 401.*Invalid or missing API key") as caught:
        provider(fal, key="wrong-key").generate(request())

    assert not caught.value.retryable
    assert "check the API key" in str(caught.value)


def test_fal_validation_error_names_the_field(fal):
    fal.script(
        "submit",
        Reply.json(422, {"detail": [{"loc": ["body", "image_size"], "msg": "too large"}]}),
    )

    with pytest.raises(ProviderError, match=r"HTTP 422.*image_size: too large") as caught:
        provider(fal).generate(request())

    assert not caught.value.retryable


def test_fal_failed_request_reports_the_error_from_the_result(fal):
    fal.script(
        "result",
        Reply.json(504, {"detail": "Request timed out", "error_type": "request_timeout"}),
    )

    with pytest.raises(
        ProviderError, match=r"HTTP 504.*Request timed out.*request_timeout"
    ) as caught:
        provider(fal).generate(request())

    assert caught.value.retryable


def test_fal_rides_out_a_transient_error_while_polling(fal):
    fal.slow_polls = 1
    fal.script("status", Reply.json(503, {"detail": "blip"}))

    result = provider(fal).generate(request())

    assert result.width == 96
    assert len(fal.calls("submit")) == 1  # the job was not submitted (and paid for) twice


def test_fal_gives_up_on_a_request_that_never_finishes_and_cancels_it(fal):
    fal.slow_polls = 10_000

    with pytest.raises(ProviderError, match=r"not finished after 0.05s") as caught:
        provider(fal, poll_timeout_s=0.05).generate(request())

    assert caught.value.retryable
    assert len(fal.calls("cancel")) == 1


def test_fal_timeout_is_retryable(fal):
    fal.script("submit", Reply.slow(1.0))

    with pytest.raises(ProviderError, match="timed out") as caught:
        provider(fal, timeout_s=0.2).generate(request())

    assert caught.value.retryable


def test_fal_unreachable_server_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    fal = FalProvider("test-key", f"http://127.0.0.1:{port}", **TUNING)

    with pytest.raises(ProviderError, match="ConnectError") as caught:
        fal.generate(request())

    assert caught.value.retryable


def test_fal_result_without_images_is_an_error(fal):
    fal.script("result", Reply.json(200, {"images": [], "seed": 1}))

    with pytest.raises(ProviderError, match="no images") as caught:
        provider(fal).generate(request())

    assert not caught.value.retryable


def test_fal_result_that_is_not_an_image_is_an_error(fal):
    fal.script("download", Reply(200, b"<html>not an image</html>", {"Content-Type": "text/html"}))

    with pytest.raises(ProviderError, match="not a readable image") as caught:
        provider(fal).generate(request())

    assert not caught.value.retryable


def test_fal_refuses_an_image_over_the_size_cap(fal):
    with pytest.raises(ProviderError, match="larger than 100 bytes") as caught:
        provider(fal, max_image_bytes=100).generate(request())

    assert not caught.value.retryable


def test_fal_reads_an_inline_data_uri_result(fal):
    png = base64.b64encode(image_bytes(32, 16)).decode()
    fal.script("result", Reply.json(200, {"images": [{"url": f"data:image/png;base64,{png}"}]}))

    result = provider(fal).generate(request(extra={"sync_mode": True}))

    assert (result.format, result.width, result.height) == ("png", 32, 16)
    assert fal.calls("submit")[0].body["sync_mode"] is True
    assert not fal.calls("download")


def test_fal_sniffs_the_format_from_the_bytes(fal):
    fal.image_format = "jpg"

    result = provider(fal).generate(request())

    assert result.format == "jpeg" and result.data.startswith(b"\xff\xd8")


def test_fal_without_a_credential_fails_clearly():
    with pytest.raises(ProviderError, match="set FAL_KEY") as caught:
        FalProvider(None, "http://127.0.0.1:9").generate(request())

    assert not caught.value.retryable


def test_fal_registry_builds_it_from_configuration(fal):
    config = {
        "PROVIDER_CREDENTIALS": {"fal": "test-key"},
        "PROVIDER_BASE_URLS": {"fal": fal.url + "/"},
    }

    assert registry.is_available("fal", config)
    assert not registry.is_available("fal", {"PROVIDER_CREDENTIALS": {"fal": None}})
    made = registry.create("fal", config)
    assert isinstance(made, FalProvider)
    assert (made.credential, made.base_url) == ("test-key", fal.url)
    assert made.generate(request()).width == 96
