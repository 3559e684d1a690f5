"""The public gallery: closed competitions' outputs, one prompt across all their models.

Only *closed* competitions have a gallery: while a competition is open for voting, nothing may
link its outputs to their models (docs/contract.md, Anonymity). Each image is captioned with
its model's place in the competition's latest published leaderboard (or none: not ranked).
Images are served by the catalog's closed-output route (``/models/<id>/arena/<image name>``),
which refuses any output of a competition that is not closed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from arena.db import storable
from arena.errors import NotFound
from arena.models import Category, Competition, Model, Output, Prompt, Scope
from arena.services.editions import competition_editions
from arena.services.leaderboards.boards import PublishedRank, published_ranks

#: Thumbnails per competition on the gallery's index.
INDEX_THUMBNAILS = 4


@dataclass(frozen=True)
class GalleryImage:
    """One model's output for one prompt, with the model's published rank (None: not ranked)."""

    model_slug: str
    model_name: str
    image_name: str
    width: int | None
    height: int | None
    rank: PublishedRank | None


@dataclass(frozen=True)
class GalleryPrompt:
    """A prompt of a closed competition: ``n`` is its number (1-based, in competition order)."""

    n: int
    text: str
    negative_prompt: str | None
    seed: int
    width: int
    height: int
    images: int  # finished, visible outputs of this prompt


@dataclass(frozen=True)
class GalleryCompetition:
    """A closed competition on the gallery's index: its name (with edition), counts and a few
    thumbnails of its first prompt with images."""

    slug: str
    label: str
    category: str
    prompts: int  # prompts with at least one image
    models: int  # models with at least one image
    images: int
    thumbnails: list[GalleryImage]


@dataclass(frozen=True)
class CompetitionGallery:
    """One closed competition's gallery at one prompt: every model's image, best ranked first."""

    slug: str
    label: str
    category: str
    description: str | None
    prompts: list[GalleryPrompt]  # only prompts with images, in competition order
    prompt: GalleryPrompt
    images: list[GalleryImage]
    previous: int | None  # the number of the previous prompt with images
    next: int | None


def _closed_competitions(session: Session) -> list[tuple[Competition, str]]:
    return list(
        session.execute(
            select(Competition, Category.name)
            .join(Category, Category.id == Competition.category_id)
            .where(Competition.status == "closed")
            .order_by(Competition.created_at, Competition.id)
        ).all()
    )


def _visible(query: Select[Any]) -> Select[Any]:
    """Only finished outputs a moderator has not hidden."""
    return query.where(Output.status == "done", Output.hidden.is_(False))


def _ranks(session: Session, competition_ids: list[int]) -> dict[tuple[int, int], PublishedRank]:
    """Published ranks keyed by (competition id, model pk)."""
    scopes = dict(
        session.execute(
            select(Scope.id, Scope.competition_id).where(Scope.competition_id.in_(competition_ids))
        ).all()
    )
    if not scopes:
        return {}
    ranks = published_ranks(session, scope_ids=list(scopes))
    return {(scopes[scope_id], model): rank for (scope_id, model), rank in ranks.items()}


def _order(image: GalleryImage) -> tuple[bool, int, str]:
    """Ranked images by rank, then the unranked by model name."""
    return image.rank is None, image.rank.rank if image.rank else 0, image.model_name.lower()


def _images(
    session: Session, prompt_ids: list[int], ranks: dict[tuple[int, int], PublishedRank]
) -> dict[int, list[GalleryImage]]:
    """The visible finished outputs of these prompts, by prompt id, best ranked first."""
    rows = session.execute(
        _visible(
            select(
                Output.prompt_id,
                Prompt.competition_id,
                Model.id,
                Model.slug,
                Model.name,
                Output.image_name,
                Output.width,
                Output.height,
            )
            .join(Prompt, Prompt.id == Output.prompt_id)
            .join(Model, Model.id == Output.model_id)
            .where(Output.prompt_id.in_(prompt_ids))
        )
    ).all()
    out: dict[int, list[GalleryImage]] = defaultdict(list)
    for prompt_id, competition_id, model_pk, slug, name, image_name, width, height in rows:
        rank = ranks.get((competition_id, model_pk))
        out[prompt_id].append(GalleryImage(slug, name, image_name, width, height, rank))
    for images in out.values():
        images.sort(key=_order)
    return out


def gallery_index(session: Session) -> list[GalleryCompetition]:
    """Every closed competition with at least one image, oldest first."""
    competitions = _closed_competitions(session)
    if not competitions:
        return []
    ids = [c.id for c, _ in competitions]
    counts = session.execute(
        _visible(
            select(
                Prompt.competition_id,
                func.count(func.distinct(Output.prompt_id)),
                func.count(func.distinct(Output.model_id)),
                func.count(),
            )
            .join(Output, Output.prompt_id == Prompt.id)
            .where(Prompt.competition_id.in_(ids))
            .group_by(Prompt.competition_id)
        )
    ).all()
    by_competition = {cid: (prompts, models, images) for cid, prompts, models, images in counts}
    first_prompts = dict(
        session.execute(
            _visible(
                select(Prompt.competition_id, Prompt.id)
                .join(Output, Output.prompt_id == Prompt.id)
                .where(Prompt.competition_id.in_(ids))
                .order_by(Prompt.competition_id, Prompt.position.desc(), Prompt.id.desc())
            )
        ).all()
    )  # the last row per competition wins: its first prompt with images
    thumbnails = _images(session, list(first_prompts.values()), _ranks(session, ids))
    labels = competition_editions(session)
    return [
        GalleryCompetition(
            slug=c.slug,
            label=labels[c.slug].label,
            category=category,
            prompts=by_competition[c.id][0],
            models=by_competition[c.id][1],
            images=by_competition[c.id][2],
            thumbnails=thumbnails[first_prompts[c.id]][:INDEX_THUMBNAILS],
        )
        for c, category in competitions
        if c.id in by_competition
    ]


def competition_gallery(session: Session, slug: str, n: int | None = None) -> CompetitionGallery:
    """A closed competition's gallery at prompt ``n`` (its first prompt with images if None).

    Raises:
        NotFound: no public competition has this slug; it is still open for voting (its
            outputs stay anonymous until it closes); it has no images yet; or it has no
            prompt ``n``.
    """
    row = (
        session.execute(
            select(Competition, Category.name)
            .join(Category, Category.id == Competition.category_id)
            .where(Competition.slug == slug, Competition.status != "draft")
        ).first()
        if storable(slug)
        else None
    )
    if row is None:
        raise NotFound(f"There is no competition called {slug!r}.")
    competition, category = row
    label = competition_editions(session)[competition.slug].label
    if competition.status != "closed":
        raise NotFound(
            f"{label} is still open for voting: its images stay anonymous, and join the "
            "gallery when its voting closes."
        )
    prompts = session.scalars(
        select(Prompt)
        .where(Prompt.competition_id == competition.id)
        .order_by(Prompt.position, Prompt.id)
    ).all()
    images = _images(session, [p.id for p in prompts], _ranks(session, [competition.id]))
    numbered = [
        GalleryPrompt(i, p.text, p.negative_prompt, p.seed, p.width, p.height, len(images[p.id]))
        for i, p in enumerate(prompts, 1)
    ]
    shown = [p for p in numbered if p.images]
    if not shown:
        raise NotFound(f"{label} has no images in the gallery yet.")
    if n is None:
        n = shown[0].n
    if not 1 <= n <= len(prompts):
        raise NotFound(f"{label} has no prompt {n}: its prompts are numbered 1 to {len(prompts)}.")
    numbers = [p.n for p in shown]
    return CompetitionGallery(
        slug=competition.slug,
        label=label,
        category=category,
        description=competition.description,
        prompts=shown,
        prompt=numbered[n - 1],
        images=images[prompts[n - 1].id],
        previous=max((k for k in numbers if k < n), default=None),
        next=min((k for k in numbers if k > n), default=None),
    )
