"""The "Best For" part of a model page, written from Arena's own data, never from vendor copy.

Each line states a fact Arena holds (published arena ranks, the cheapest known price, the
licence, the providers that serve it here) and nothing it does not: no invented use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arena.services.catalog.listing import Standing
from arena.services.catalog.pricing import Price


@dataclass(frozen=True)
class Placing:
    """A model's published place in one scope: the scope's name and the model's standing."""

    name: str
    standing: Standing


@dataclass(frozen=True)
class BestForLine:
    """One line of "Best For": a short bold lead and the sentence after it."""

    lead: str
    text: str


def _strong_placings(placings: Sequence[Placing]) -> list[Placing]:
    """Published placings in the top third of their ranking, best first."""
    ranked = [p for p in placings if p.standing.published]
    strong = [p for p in ranked if 3 * p.standing.published.rank <= p.standing.published.rank_of]
    return sorted(strong, key=lambda p: p.standing.published.rank / p.standing.published.rank_of)


def _names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _rank(p: Placing) -> str:
    return f"#{p.standing.published.rank} of {p.standing.published.rank_of} in {p.name}"


def best_for(
    *,
    name: str,
    slug: str,
    categories: Sequence[Placing],
    competitions: Sequence[Placing],
    cheapest: Price | None,
    license: str | None,
    open_weights: bool,
    providers: Sequence[str],
) -> list[BestForLine]:
    """What the model suits, in Arena's words, from Arena's data.

    Args:
        categories, competitions: the model's standings by category and by competition (with
            the names to show); only published ranks are quoted.
        cheapest: the cheapest known price (None: no provider publishes one).
        providers: the display names of the providers that serve it here.
    """
    lines: list[BestForLine] = []
    strong = _strong_placings(categories) or _strong_placings(competitions)
    ranked = [p for p in [*categories, *competitions] if p.standing.published]
    if strong:
        lines.append(
            BestForLine(
                "Where voters rate it highly",
                f"{name} ranks {', '.join(_rank(p) for p in strong[:3])} in blind votes: "
                "a good candidate for those kinds of image.",
            )
        )
    elif ranked:
        best = min(ranked, key=lambda p: p.standing.published.rank / p.standing.published.rank_of)
        lines.append(
            BestForLine(
                "Arena results",
                f"Its best published result so far is {_rank(best)}; compare it with the "
                "models above it on that leaderboard before choosing it for that use.",
            )
        )
    else:
        lines.append(
            BestForLine(
                "Arena results",
                f"{name} has no published arena rank yet, so Arena cannot yet say which "
                "kinds of image it does best. Votes in its competitions will tell.",
            )
        )
    if cheapest is not None:
        lines.append(
            BestForLine(
                "Budget",
                f"It starts at {cheapest.label} through {cheapest.provider_name}; compare "
                "that with the price per image of the models ranked near it.",
            )
        )
    else:
        lines.append(
            BestForLine("Budget", "No provider publishes a price for it, so its cost is unknown.")
        )
    if open_weights or license:
        terms = f" (licence: {license})" if license else ""
        text = (
            f"Its weights are published{terms}." if open_weights else f"Its licence is {license}."
        )
        lines.append(BestForLine("Licence", f"{text} Check its terms before commercial use."))
    if providers:
        routed = (
            f"Arena routes each request to the cheapest configured provider of "
            f"{_names(providers)}, and falls back to the next one on failure."
        )
    else:
        routed = "No provider offers it, so Arena serves it with the offline builtin stand-in."
    lines.append(
        BestForLine(
            "Access",
            f"Call it on this server's OpenAI-compatible endpoint with "
            f'"model": "{slug}". {routed}',
        )
    )
    return lines
