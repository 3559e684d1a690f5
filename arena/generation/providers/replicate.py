"""The ``replicate`` provider: Replicate's predictions API.

1. Create a prediction with ``Authorization: Bearer <REPLICATE_API_TOKEN>`` and ``{"input":
   {...}}``: ``POST {REPLICATE_BASE_URL}/models/{owner}/{name}/predictions`` for a model
   (its latest version), or ``POST {base}/predictions`` with ``{"version": id, "input"}``
   for a pinned ``owner/name:version``. ``Prefer: wait=N`` asks Replicate to hold the
   request up to N seconds (at most 60) and answer with the finished prediction.
2. Until its ``status`` is final (``succeeded``, ``failed``, ``canceled``; ``starting`` and
   ``processing`` before), ``GET urls.get``.
3. ``output`` is a file URL or a list of them: download the first.

A prediction is ``{id, status, input, output, error, urls: {get, cancel}, ...}``; API
errors are problem details ``{"title", "detail", "status"}``.

Models take their size differently: most ``width``/``height``, many an ``aspect_ratio``,
PrunaAI's HiDream builds a ``resolution`` from a fixed list. ``SIZE_INPUTS`` says which for
the models we know; others get ``width``/``height``. Sizes are thus as close as the model
allows, and the output records the size actually made.
"""

from __future__ import annotations

from typing import Any

import httpx

from arena.generation.base import ImageRequest, ImageResult, ProviderError
from arena.generation.providers import extra_for, nearest_ratio
from arena.generation.providers.http import HTTPProvider, PollTimeout, require, where
from arena.generation.registry import register

REPLICATE = "replicate"

#: Ratios every aspect-ratio model of ours accepts.
COMMON_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4")
#: ``resolution`` values of PrunaAI's HiDream models, as their input schema lists them.
HIDREAM_RESOLUTIONS = (
    "1024 × 1024 (Square)",
    "768 × 1360 (Portrait)",
    "1360 × 768 (Landscape)",
    "880 × 1168 (Portrait)",
    "1168 × 880 (Landscape)",
    "1248 × 832 (Landscape)",
    "832 × 1248 (Portrait)",
)
_ASPECT_RATIO = "aspect_ratio"
_RESOLUTION = "resolution"
#: How each known model takes its size (models not listed take ``width`` and ``height``).
SIZE_INPUTS: dict[str, str] = {
    "prunaai/hidream-l1-fast": _RESOLUTION,
    "prunaai/hidream-l1-dev": _RESOLUTION,
    "prunaai/hidream-l1-full": _RESOLUTION,
    "black-forest-labs/flux-schnell": _ASPECT_RATIO,
    "black-forest-labs/flux-dev": _ASPECT_RATIO,
    "black-forest-labs/flux-1.1-pro": _ASPECT_RATIO,
    "black-forest-labs/flux-1.1-pro-ultra": _ASPECT_RATIO,
    "black-forest-labs/flux-kontext-pro": _ASPECT_RATIO,
    "stability-ai/stable-diffusion-3.5-large": _ASPECT_RATIO,
    "stability-ai/stable-diffusion-3.5-large-turbo": _ASPECT_RATIO,
    "stability-ai/stable-diffusion-3.5-medium": _ASPECT_RATIO,
    "google/imagen-3": _ASPECT_RATIO,
    "google/imagen-4": _ASPECT_RATIO,
    "ideogram-ai/ideogram-v2": _ASPECT_RATIO,
    "ideogram-ai/ideogram-v3-balanced": _ASPECT_RATIO,
    "bytedance/seedream-3": _ASPECT_RATIO,
    "recraft-ai/recraft-v3": _ASPECT_RATIO,
}

_FINAL = ("succeeded", "failed", "canceled", "aborted")


def _resolution(width: int, height: int) -> str:
    by_ratio = {option.split(" (")[0].replace(" × ", ":"): option for option in HIDREAM_RESOLUTIONS}
    return by_ratio[nearest_ratio(width, height, tuple(by_ratio))]


@register
class ReplicateProvider(HTTPProvider):
    """Images from Replicate's predictions API (see the module docstring for the protocol).

    Args:
        wait_s: the ``Prefer: wait=N`` hold asked of Replicate (1-60 s; 0 to poll only).
        (others as ``HTTPProvider``)
    """

    name = REPLICATE
    credential_env = "REPLICATE_API_TOKEN"
    default_base_url = "https://api.replicate.com/v1"

    def __init__(
        self, credential: str | None = None, base_url: str | None = None, *, wait_s: int = 60, **kw
    ) -> None:
        super().__init__(credential, base_url, **kw)
        self.wait_s = max(0, min(int(wait_s), 60))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"}

    def build_input(self, request: ImageRequest) -> dict[str, Any]:
        """The model input: Replicate-only parameters from ``extra``, then our matched inputs."""
        model = request.provider_model_id.split(":")[0]
        body = extra_for(REPLICATE, request.extra)
        body["prompt"] = request.prompt
        style = SIZE_INPUTS.get(model)
        if style == _RESOLUTION:
            body["resolution"] = _resolution(request.width, request.height)
        elif style == _ASPECT_RATIO:
            body["aspect_ratio"] = nearest_ratio(request.width, request.height, COMMON_RATIOS)
        else:
            body.update(width=request.width, height=request.height)
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _generate(self, client: httpx.Client, request: ImageRequest) -> ImageResult:
        model, _, version = request.provider_model_id.strip("/").partition(":")
        body: dict[str, Any] = {"input": self.build_input(request)}
        if version:
            url = f"{self.base_url}/predictions"
            body["version"] = version
        else:
            url = f"{self.base_url}/models/{model}/predictions"
        headers = {"Prefer": f"wait={self.wait_s}"} if self.wait_s else {}
        # The held request may take wait_s seconds before its first byte.
        timeout = httpx.Timeout(self.timeout_s, read=self.timeout_s + self.wait_s)
        prediction = self.call(client, "POST", url, json=body, headers=headers, timeout=timeout)
        prediction_id = require(self.name, prediction, "id", where("POST", url))
        urls = prediction.get("urls") if isinstance(prediction.get("urls"), dict) else {}
        get_url = urls.get("get") or f"{self.base_url}/predictions/{prediction_id}"

        if prediction.get("status") not in _FINAL:
            try:
                prediction = self.poll(
                    lambda: self.call(client, "GET", get_url),
                    lambda p: p.get("status") in _FINAL,
                    what=f"replicate prediction {prediction_id}",
                )
            except PollTimeout:
                self.cancel_quietly(
                    client, "POST", urls.get("cancel") or f"{get_url.rstrip('/')}/cancel"
                )
                raise
        status = prediction.get("status")
        if status != "succeeded":
            error = prediction.get("error") or "no error given"
            raise ProviderError(
                self.name, f"prediction {prediction_id} {status}: {error}", retryable=False
            )
        return self.fetch_image(client, _first_output(prediction, prediction_id))


def _first_output(prediction: dict[str, Any], prediction_id: str) -> str:
    output = prediction.get("output")
    if isinstance(output, list):
        output = output[0] if output else None
    if not isinstance(output, str) or not output:
        raise ProviderError(
            REPLICATE,
            f"prediction {prediction_id} succeeded without a file URL in its output",
            retryable=False,
        )
    return output
