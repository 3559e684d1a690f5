"""Gallery images of a model: curated examples rendered once, and outputs of closed competitions."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.db import storable
from arena.errors import NotFound
from arena.generation.builtin.render import render_png
from arena.media import image_path
from arena.models import Competition, Model, Output, Prompt
from arena.services.catalog.listing import get_model

#: Curated gallery images: rendered by the builtin stand-in at this size and seed.
GALLERY_SIZE = 512
GALLERY_SEED = 0


def curated_image(session: Session, media_dir: str | Path, slug: str, n: int) -> Path:
    """The PNG of curated example ``n`` (from 1) of a model, rendered once and cached.

    The offline builtin stand-in renders the prompt (seed 0, 512x512); the file lives under
    ``<media>/gallery/<slug>/`` and its name carries a hash of the prompt, so an edited
    prompt gets a fresh image.

    Raises:
        NotFound: no such model, or it has no curated example ``n``.
    """
    model = get_model(session, slug)
    prompts = model.curated_prompts or []
    if not 1 <= n <= len(prompts):
        raise NotFound(f"{slug} has no curated example {n}", field="n")
    prompt = prompts[n - 1]
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
    path = Path(media_dir) / "gallery" / model.slug / f"{n}-{digest}.png"
    if not path.exists():
        data = render_png(
            model.slug, prompt, seed=GALLERY_SEED, width=GALLERY_SIZE, height=GALLERY_SIZE
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name: two requests may render the same image at once.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class StoredImage:
    """A stored output file and its format."""

    path: Path
    format: str


def closed_output_image(
    session: Session, media_dir: str | Path, slug: str, image_name: str
) -> StoredImage:
    """The stored file of one of the model's outputs, only if its competition is closed.

    Raises:
        NotFound: no such output of this model, not finished, hidden by a moderator, or its
            competition is not closed (outputs of open competitions stay anonymous).
    """
    if not (storable(slug) and storable(image_name)):
        raise NotFound("no such gallery image", field="image")
    row = session.execute(
        select(Output.image_name, Output.format)
        .join(Model, Model.id == Output.model_id)
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(Competition, Competition.id == Prompt.competition_id)
        .where(
            Model.slug == slug,
            Output.image_name == image_name,
            Output.status == "done",
            Output.hidden.is_(False),
            Competition.status == "closed",
        )
    ).first()
    if row is None:
        raise NotFound("no such gallery image", field="image")
    path = image_path(media_dir, row.image_name)
    if not path.exists():
        raise NotFound("the image file is missing", field="image")
    return StoredImage(path, row.format or row.image_name.rpartition(".")[2])
