"""The leaderboard overview: every model's published rank overall and in each category at once.

Like LMArena's overview, one row per model and one column per board; a cell is the model's
rank upper bound (``rank_ub``) in that board's latest published snapshot, or nothing when the
board does not rank it yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Model
from arena.services.leaderboards.boards import PublishedRank, ScopeInfo, published_ranks, scope_menu


@dataclass(frozen=True)
class OverviewRow:
    """One model's line: its published rank in each column's board (None: not ranked there)."""

    model_pk: int
    model_id: str  # the slug, for links
    model_name: str
    creator: str | None
    deprecated: bool
    ranks: tuple[PublishedRank | None, ...]  # in the order of ``Overview.columns``


@dataclass(frozen=True)
class Overview:
    """The overview matrix: boards as columns (overall first, then categories by name), rows
    best first by overall rank upper bound, then rank, then name; models ranked in no board
    are left out, deprecated ones too unless asked for (``deprecated_hidden`` counts them)."""

    columns: list[ScopeInfo]
    rows: list[OverviewRow]
    show_deprecated: bool
    deprecated_hidden: int


def _order(row: OverviewRow) -> tuple[bool, int, int, str]:
    overall = row.ranks[0]
    if overall is None:
        return True, 0, 0, row.model_name.casefold()
    return False, overall.rank_ub, overall.rank, row.model_name.casefold()


def overview(session: Session, *, show_deprecated: bool = False) -> Overview:
    """Every model's published rank upper bound overall and in each category (two queries
    for the ranks, one for the models).

    Args:
        show_deprecated: keep deprecated models (default: leave them out and count them).
    """
    columns = [s for s in scope_menu(session) if s.kind != "competition"]
    ranks = published_ranks(session, scope_ids=[s.id for s in columns])
    ranked = {model_pk for _, model_pk in ranks}
    models = session.execute(
        select(Model.id, Model.slug, Model.name, Model.creator, Model.status).where(
            Model.id.in_(ranked)
        )
    ).all()
    rows = [
        OverviewRow(
            model_pk=pk,
            model_id=slug,
            model_name=name,
            creator=creator,
            deprecated=status == "deprecated",
            ranks=tuple(ranks.get((column.id, pk)) for column in columns),
        )
        for pk, slug, name, creator, status in models
    ]
    hidden = sum(1 for row in rows if row.deprecated)
    if not show_deprecated:
        rows = [row for row in rows if not row.deprecated]
    rows.sort(key=_order)
    return Overview(columns, rows, show_deprecated, 0 if show_deprecated else hidden)
