"""Names people can tell apart: competitions that share a name get an edition label.

Two competitions may share a name ("Fantasy Warrior" run twice); a slug is not something to
show a reader. Competitions of one name are numbered in the order they were created
("Fantasy Warrior · edition 2"); a name used once keeps no label.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Competition


@dataclass(frozen=True)
class Edition:
    """How to name one competition: its name and, when the name is shared, its edition."""

    name: str
    edition: int | None  # 1, 2, … among competitions of the same name; None when unique

    @property
    def edition_label(self) -> str | None:
        return None if self.edition is None else f"edition {self.edition}"

    @property
    def label(self) -> str:
        return self.name if self.edition is None else f"{self.name} · edition {self.edition}"


def editions(rows: Sequence[tuple[str, str, dt.datetime, int]]) -> dict[str, Edition]:
    """Label competitions given as ``(slug, name, created_at, id)``; keyed by slug.

    Names are compared without case or surrounding spaces; editions follow creation order
    (then id, for competitions created in the same instant).
    """
    by_name: dict[str, list[tuple[dt.datetime, int, str, str]]] = defaultdict(list)
    for slug, name, created_at, pk in rows:
        by_name[name.strip().casefold()].append((created_at, pk, slug, name))
    out: dict[str, Edition] = {}
    for group in by_name.values():
        group.sort()
        for number, (_, _, slug, name) in enumerate(group, start=1):
            out[slug] = Edition(name.strip(), number if len(group) > 1 else None)
    return out


def competition_editions(session: Session) -> dict[str, Edition]:
    """Every competition's name and edition, keyed by slug (one query)."""
    rows = session.execute(
        select(Competition.slug, Competition.name, Competition.created_at, Competition.id)
    ).all()
    return editions([tuple(r) for r in rows])
