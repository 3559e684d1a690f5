"""The ``fal`` provider: fal's queue API.

1. ``POST {FAL_BASE_URL}/{model_id}`` with ``Authorization: Key <FAL_KEY>`` and the model's
   input as the JSON body → ``{request_id, status_url, response_url, cancel_url}``.
2. ``GET status_url`` until ``{"status": "COMPLETED"}`` (``IN_QUEUE`` and ``IN_PROGRESS``
   before it; HTTP 202 while waiting, 200 when done).
3. ``GET response_url`` → the model's output, ``{"images": [{"url", "width", "height",
   "content_type"}], ...}``; a failed request answers there with its error.
4. Download ``images[0].url`` (a CDN URL, or a ``data:`` URI with ``sync_mode``).

The status and result URLs are taken from the submit response, never built: fal's use only
the model's owner and app, not its full path. Errors come as ``{"detail": str | [{"loc",
"msg"}]}`` (with ``error_type`` for infrastructure failures, on 5xx statuses).
"""

from __future__ import annotations

from typing import Any

import httpx

from arena.generation.base import ImageRequest, ImageResult, ProviderError
from arena.generation.providers import extra_for, nearest_ratio
from arena.generation.providers.http import HTTPProvider, PollTimeout, require, where
from arena.generation.registry import register

FAL = "fal"

_ULTRA_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
#: Endpoints that take ``aspect_ratio`` (one of these) instead of ``image_size``.
ASPECT_RATIO_ENDPOINTS: dict[str, tuple[str, ...]] = {"fal-ai/flux-pro/v1.1-ultra": _ULTRA_RATIOS}

_WAITING = ("IN_QUEUE", "IN_PROGRESS")


@register
class FalProvider(HTTPProvider):
    """Images from fal's queue API (see the module docstring for the protocol)."""

    name = FAL
    credential_env = "FAL_KEY"
    default_base_url = "https://queue.fal.run"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.credential}"}

    def build_input(self, request: ImageRequest) -> dict[str, Any]:
        """The model input: fal-only parameters from ``extra``, our matched inputs over them."""
        body: dict[str, Any] = {"sync_mode": False}
        body.update(extra_for(FAL, request.extra))
        body.update(prompt=request.prompt, num_images=1)
        ratios = ASPECT_RATIO_ENDPOINTS.get(request.provider_model_id)
        if ratios:
            body["aspect_ratio"] = nearest_ratio(request.width, request.height, ratios)
        else:
            body["image_size"] = {"width": request.width, "height": request.height}
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _generate(self, client: httpx.Client, request: ImageRequest) -> ImageResult:
        submit_url = f"{self.base_url}/{request.provider_model_id.strip('/')}"
        submitted = self.call(client, "POST", submit_url, json=self.build_input(request))
        call = where("POST", submit_url)
        request_id = require(self.name, submitted, "request_id", call)
        status_url = require(self.name, submitted, "status_url", call)
        response_url = require(self.name, submitted, "response_url", call)

        try:
            status = self.poll(
                lambda: self.call(client, "GET", status_url),
                lambda s: s.get("status") not in _WAITING,
                what=f"fal request {request_id}",
            )
        except PollTimeout:
            self.cancel_quietly(client, "PUT", submitted.get("cancel_url"))
            raise
        if status.get("status") != "COMPLETED":
            raise ProviderError(
                self.name,
                f"fal request {request_id} ended with status {status.get('status')!r}"
                + (f": {status['error']}" if status.get("error") else ""),
                retryable=False,
            )

        result_url = status.get("response_url") or response_url
        output = self.call(client, "GET", result_url)
        image = _first_image(output, where("GET", result_url))
        return self.fetch_image(client, image["url"], image.get("content_type"))


def _first_image(output: dict[str, Any], call: str) -> dict[str, Any]:
    images = output.get("images")
    if images is None and isinstance(output.get("image"), dict):
        images = [output["image"]]
    if not isinstance(images, list) or not images:
        raise ProviderError(FAL, f"no images in the result from {call}", retryable=False)
    image = images[0]
    if not isinstance(image, dict) or not isinstance(image.get("url"), str):
        raise ProviderError(
            FAL, f"malformed image entry in the result from {call}", retryable=False
        )
    return image
