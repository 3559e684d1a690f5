"""The ``openai`` provider: any OpenAI-compatible image API at ``OPENAI_BASE_URL``.

``POST {OPENAI_BASE_URL}/images/generations`` with ``Authorization: Bearer
<OPENAI_API_KEY>`` and ``{model, prompt, n: 1, size: "WxH", response_format: "b64_json"}``
→ ``{created, data: [{b64_json | url, revised_prompt}]}``; errors are ``{"error":
{"message", "type", "param", "code"}}``. The image comes inline (``b64_json``) or, from
upstreams that ignore ``response_format``, as a URL we download.

OpenAI's own models take only their fixed sizes and no seed or negative prompt (unknown
parameters are refused), and the GPT image models always answer in base64 and refuse
``response_format``: for those the request is shaped accordingly (the nearest allowed size
by aspect ratio). Other model names are sent everything, as a compatible upstream (such as
another Arena) takes it.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from arena.generation.base import ImageRequest, ImageResult, ProviderError
from arena.generation.providers import extra_for
from arena.generation.providers.http import HTTPProvider, decode_base64, image_result, where
from arena.generation.registry import register

OPENAI = "openai"

#: Sizes OpenAI's own models accept, by model name prefix.
OPENAI_SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "gpt-image-": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "dall-e-3": ((1024, 1024), (1792, 1024), (1024, 1792)),
    "dall-e-2": ((256, 256), (512, 512), (1024, 1024)),
}


def _official_sizes(model: str) -> tuple[tuple[int, int], ...] | None:
    for prefix, sizes in OPENAI_SIZES.items():
        if model.startswith(prefix):
            return sizes
    return None


def nearest_size(width: int, height: int, sizes: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The size among ``sizes`` closest in aspect ratio, then in area, to ``width x height``."""

    def distance(size: tuple[int, int]) -> tuple[float, float]:
        w, h = size
        return (
            round(abs(math.log((w / h) / (width / height))), 6),
            abs(math.log((w * h) / (width * height))),
        )

    return min(sizes, key=distance)


@register
class OpenAIProvider(HTTPProvider):
    """Images from an OpenAI-compatible ``/images/generations`` endpoint."""

    name = OPENAI
    credential_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"
    # Image models answer synchronously and may take a minute or two.
    default_timeout_s = 180.0

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"}

    def build_body(self, request: ImageRequest) -> dict[str, Any]:
        """The request body for ``request`` (see the module docstring)."""
        model = request.provider_model_id
        body = extra_for(OPENAI, request.extra)
        body.update(model=model, prompt=request.prompt, n=1)
        sizes = _official_sizes(model)
        if sizes is None:
            body.update(size=f"{request.width}x{request.height}", response_format="b64_json")
            if request.negative_prompt:
                body["negative_prompt"] = request.negative_prompt
            if request.seed is not None:
                body["seed"] = request.seed
            return body
        width, height = nearest_size(request.width, request.height, sizes)
        body["size"] = f"{width}x{height}"
        if not model.startswith("gpt-image-"):
            body["response_format"] = "b64_json"
        return body

    def _generate(self, client: httpx.Client, request: ImageRequest) -> ImageResult:
        url = f"{self.base_url}/images/generations"
        answer = self.call(client, "POST", url, json=self.build_body(request))
        call = where("POST", url)
        data = answer.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise ProviderError(self.name, f"no images in the answer from {call}", retryable=False)
        item = data[0]
        if isinstance(item.get("b64_json"), str):
            payload = decode_base64(self.name, item["b64_json"], f"b64_json from {call}")
            if len(payload) > self.max_image_bytes:
                raise ProviderError(
                    self.name, f"image larger than {self.max_image_bytes} bytes", retryable=False
                )
            return image_result(self.name, payload)
        if isinstance(item.get("url"), str):
            return self.fetch_image(client, item["url"])
        raise ProviderError(
            self.name, f"the answer from {call} has neither b64_json nor url", retryable=False
        )
