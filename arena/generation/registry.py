"""Registry of image providers keyed by name, and which of them this deployment can use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arena.generation.base import ImageProvider

_PROVIDERS: dict[str, type[ImageProvider]] = {}


def register(cls: type[ImageProvider]) -> type[ImageProvider]:
    """Class decorator: make a provider available under ``cls.name``."""
    _PROVIDERS[cls.name] = cls
    return cls


def provider_names() -> list[str]:
    """Names of every registered provider."""
    _load_builtins()
    return sorted(_PROVIDERS)


def is_available(name: str, config: Mapping[str, Any]) -> bool:
    """True if provider ``name`` is registered and, unless offline, has a credential."""
    _load_builtins()
    cls = _PROVIDERS.get(name)
    if cls is None:
        return False
    return cls.offline or bool(config["PROVIDER_CREDENTIALS"].get(name))


def create(name: str, config: Mapping[str, Any]) -> ImageProvider:
    """An instance of provider ``name`` configured from the app config.

    Raises:
        KeyError: no provider of that name is registered.
    """
    _load_builtins()
    cls = _PROVIDERS[name]
    return cls(
        credential=config["PROVIDER_CREDENTIALS"].get(name),
        base_url=config["PROVIDER_BASE_URLS"].get(name),
    )


def _load_builtins() -> None:
    # Importing the provider modules registers them; done lazily to keep imports acyclic.
    from arena.generation import builtin  # noqa: F401
    from arena.generation.providers import fal, openai, replicate  # noqa: F401
