"""The provider interface: a request for one image in, PNG/JPEG/... bytes out, or an error."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class ImageRequest:
    """What to make: the same fields for every provider (matched outputs use identical ones).

    ``model_id`` is our public model slug, ``provider_model_id`` the provider's own name for
    the model (the offering's), ``extra`` the provider-only parameters.
    """

    model_id: str
    provider_model_id: str
    prompt: str
    negative_prompt: str | None = None
    seed: int | None = None
    width: int = 1024
    height: int = 1024
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageResult:
    """One image as the provider made it."""

    data: bytes
    format: str
    width: int
    height: int


class ProviderError(Exception):
    """A provider failed; ``retryable`` says whether trying again later may succeed."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable
        self.retry_after = retry_after
        #: How many provider calls were made before giving up (set by the router).
        self.attempts = 1


class ImageProvider(ABC):
    """An image service. Subclasses register themselves in ``arena.generation.registry``.

    Args:
        credential: the API key or token from configuration (None for offline providers).
        base_url: the service's base URL from configuration.
    """

    name: ClassVar[str]
    #: True for providers that need no credential (they are always available).
    offline: ClassVar[bool] = False

    def __init__(self, credential: str | None = None, base_url: str | None = None) -> None:
        self.credential = credential
        self.base_url = base_url

    @abstractmethod
    def generate(self, request: ImageRequest) -> ImageResult:
        """Make one image.

        Raises:
            ProviderError: the service refused or failed.
        """
