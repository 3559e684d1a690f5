"""Output moderation: every output of a competition with its model, and hiding bad ones.

A hidden output is never put in a new battle and never shown in a public gallery; the
admin still sees it (and its image, whatever the competition's status) to undo the choice.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from arena.errors import NotFound
from arena.media import image_path
from arena.models import Competition, Model, Output, Prompt
from arena.services.admin import forms as f
from arena.services.catalog.gallery import StoredImage

#: Which outputs the grid shows.
SHOWS = ("all", "visible", "hidden", "failed")
PAGE_SIZE = 60
#: Longest side of the grid's thumbnails, in pixels.
THUMB_SIDE = 360


@dataclass(frozen=True)
class OutputCard:
    """One output as the moderation grid shows it."""

    id: int
    model_slug: str
    model_name: str
    prompt_key: str
    prompt_text: str
    status: str
    hidden: bool
    has_image: bool
    width: int | None
    height: int | None
    provider: str | None
    error: str | None


@dataclass(frozen=True)
class OutputPage:
    """One page of a competition's outputs, with counts for the filter menu."""

    competition: str
    competition_name: str
    show: str
    cards: list[OutputCard]
    page: int
    pages: int
    counts: dict[str, int]


def competition_choices(session: Session) -> list[tuple[str, str, str]]:
    """(slug, name, status) of every competition, by slug."""
    return [
        tuple(row)
        for row in session.execute(
            select(Competition.slug, Competition.name, Competition.status).order_by(
                Competition.slug
            )
        )
    ]


def _cards_query() -> Select[Any]:
    return (
        select(
            Output.id,
            Model.slug,
            Model.name,
            Prompt.key,
            Prompt.text,
            Output.status,
            Output.hidden,
            Output.image_name.is_not(None),
            Output.width,
            Output.height,
            Output.provider,
            Output.error,
        )
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(Model, Model.id == Output.model_id)
    )


def list_outputs(
    session: Session, competition: str, *, show: str = "all", page: int = 1
) -> OutputPage:
    """A page of the competition's outputs, by prompt then model.

    Args:
        show: ``all``, ``visible`` (finished, not hidden), ``hidden`` or ``failed``.
        page: 1-based; past the end gives the last page.

    Raises:
        NotFound: no such competition.
        ValidationError: an unknown ``show``.
    """
    row = session.execute(
        select(Competition.id, Competition.name).where(Competition.slug == competition)
    ).first()
    if row is None:
        raise NotFound(f"There is no competition called {competition!r}.", field="competition")
    show = f.choice({"show": show}, "show", SHOWS, default="all")
    in_competition = Prompt.competition_id == row.id
    counts = {
        "all": 0,
        "visible": 0,
        "hidden": 0,
        "failed": 0,
    }
    for status, hidden, n in session.execute(
        select(Output.status, Output.hidden, func.count())
        .join(Prompt, Prompt.id == Output.prompt_id)
        .where(in_competition)
        .group_by(Output.status, Output.hidden)
    ):
        counts["all"] += n
        if hidden:
            counts["hidden"] += n
        elif status == "done":
            counts["visible"] += n
        if status == "failed":
            counts["failed"] += n
    query = _cards_query().where(in_competition)
    if show == "visible":
        query = query.where(Output.status == "done", Output.hidden.is_(False))
    elif show == "hidden":
        query = query.where(Output.hidden.is_(True))
    elif show == "failed":
        query = query.where(Output.status == "failed")
    pages = max(1, math.ceil(counts[show] / PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        query.order_by(Prompt.position, Prompt.id, Model.slug)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return OutputPage(
        competition=competition,
        competition_name=row.name,
        show=show,
        cards=[OutputCard(*r) for r in rows],
        page=page,
        pages=pages,
        counts=counts,
    )


def get_card(session: Session, output_id: int) -> OutputCard:
    """One output as a card.

    Raises:
        NotFound: no such output.
    """
    row = session.execute(_cards_query().where(Output.id == output_id)).first()
    if row is None:
        raise NotFound(f"There is no output #{output_id}.", field="output")
    return OutputCard(*row)


def set_hidden(session: Session, output_id: int, hidden: bool) -> OutputCard:
    """Hide an output from new battles and galleries, or show it again.

    Battles already issued with it keep their images (a voter may be looking at one).

    Raises:
        NotFound: no such output.
    """
    output = session.get(Output, output_id)
    if output is None:
        raise NotFound(f"There is no output #{output_id}.", field="output")
    with f.unit_of_work(session):
        output.hidden = hidden
    return get_card(session, output_id)


def output_image(session: Session, media_dir: str | Path, output_id: int) -> StoredImage:
    """The stored file of any output with an image (hidden or not, any competition status).

    Raises:
        NotFound: no such output, it has no image, or the file is missing.
    """
    row = session.execute(
        select(Output.image_name, Output.format).where(
            Output.id == output_id, Output.image_name.is_not(None)
        )
    ).first()
    if row is None:
        raise NotFound(f"Output #{output_id} has no image.", field="output")
    path = image_path(media_dir, row.image_name)
    if not path.exists():
        raise NotFound(f"The image file of output #{output_id} is missing.", field="output")
    return StoredImage(path, row.format or row.image_name.rpartition(".")[2])


def output_thumbnail(session: Session, media_dir: str | Path, output_id: int) -> bytes:
    """A small WebP of any output's image (``THUMB_SIDE`` pixels at most), made once.

    Raises:
        NotFound: no such output, it has no image, or the file is missing.
    """
    image = output_image(session, media_dir, output_id)
    cached = Path(media_dir) / "thumbs" / image.path.name[:2] / f"{image.path.stem}.webp"
    if cached.exists():
        return cached.read_bytes()
    with Image.open(image.path) as source:
        small = source.convert("RGB")
        small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, format="WEBP", quality=80)
    data = buffer.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cached)
    return data
