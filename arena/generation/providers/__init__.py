"""Adapters for hosted image services, each a registered ``ImageProvider``.

- ``fal``: fal's queue API (submit, poll the status URL, fetch the result, download).
- ``replicate``: Replicate's predictions API (create, poll ``urls.get``, download the output).
- ``openai``: any OpenAI-compatible ``POST /images/generations`` upstream.

Every adapter takes its credential and base URL from configuration (``FAL_KEY`` /
``FAL_BASE_URL`` and so on), shares the HTTP plumbing of ``providers.http`` (timeouts, error
mapping, polling with a deadline, capped downloads) and returns the image's real bytes,
format and size as Pillow reads them.

An ``ImageRequest`` is tried on several routes in turn (see ``arena.generation.router``), so
its ``extra`` may hold parameters meant for another provider: ``extra_for`` keeps those that
this provider understands (or that no provider claims) and drops the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Provider-only parameters, by provider (as the model seeds declare them). A parameter
#: listed for another provider only is never sent to this one.
PROVIDER_ONLY_PARAMS: Mapping[str, frozenset[str]] = {
    "fal": frozenset({"enable_safety_checker", "num_inference_steps", "sync_mode"}),
    "replicate": frozenset({"model_type", "output_quality", "speed_mode"}),
    "openai": frozenset({"background", "moderation", "quality", "style"}),
}

#: Parameters of our own gateway (sizes, output encoding, count): never forwarded upstream,
#: since every adapter sets the image's inputs itself and we re-encode the result.
GATEWAY_PARAMS = frozenset(
    {
        "model",
        "prompt",
        "negative_prompt",
        "seed",
        "size",
        "aspect_ratio",
        "resolution",
        "response_format",
        "output_format",
        "output_compression",
        "n",
    }
)


def extra_for(provider: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The provider-only parameters of ``extra`` that ``provider`` should receive."""
    own = PROVIDER_ONLY_PARAMS.get(provider, frozenset())
    foreign = frozenset().union(
        *(params for name, params in PROVIDER_ONLY_PARAMS.items() if name != provider)
    )
    return {
        key: value
        for key, value in extra.items()
        if key not in GATEWAY_PARAMS and (key in own or key not in foreign)
    }


def nearest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    """The ratio ``"W:H"`` among ``ratios`` closest to ``width / height`` (in log scale)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - target)

    return min(ratios, key=distance)
