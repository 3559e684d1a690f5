"""The offline ``builtin`` provider: a deterministic stand-in for any model, no network.

The provider adapter lives here; the renderer it calls is the rest of the package:
``render`` (entry points) runs ``style`` (per model), ``words`` (the prompt), ``palette``,
``background``, ``layout`` (motifs placed, with ``shapes``) and ``drawing``; ``seeding``
derives every random generator from SHA-256 of the inputs.
"""

from __future__ import annotations

from arena.generation.base import ImageProvider, ImageRequest, ImageResult, ProviderError
from arena.generation.builtin.render import render_png
from arena.generation.registry import register

BUILTIN = "builtin"


@register
class BuiltinProvider(ImageProvider):
    """Renders a model-specific, prompt-driven abstract picture (see ``builtin.render``)."""

    name = BUILTIN
    offline = True

    def generate(self, request: ImageRequest) -> ImageResult:
        try:
            data = render_png(
                request.model_id,
                request.prompt,
                negative_prompt=request.negative_prompt,
                seed=request.seed or 0,
                width=request.width,
                height=request.height,
            )
        except ValueError as exc:
            raise ProviderError(self.name, str(exc), retryable=False) from None
        return ImageResult(data=data, format="png", width=request.width, height=request.height)
