"""What a leaderboard page shows: a board sorted as asked with each model's public facts,
its charts' data, and the scopes to choose from (category tabs, a competition list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from arena.models import utcnow
from arena.services.catalog.pricing import PRICING_SUFFIX, format_price
from arena.services.leaderboards import boards, plots
from arena.services.leaderboards.facts import ModelFacts

#: The table's sort keys: each the value a row is sorted by (None: the row has no value and
#: goes last), and whether its first click puts the smallest value first (``ascending``).
#: Rows with equal values keep the board's order (published rank, then name).
SORTS: dict[str, tuple[Callable[[dict[str, Any]], Any], bool]] = {
    "rank": (lambda r: r["rank"], True),
    "rank_ub": (lambda r: r["rank_ub"], True),
    "model": (lambda r: r["model_name"].lower(), True),
    "bt": (lambda r: r["bt_rating"], False),
    "tie_rate": (lambda r: r["tie_rate"], False),
    "elo": (lambda r: r["elo"], False),
    "battles": (lambda r: r["battles"], False),
    "win_rate": (lambda r: r["win_rate"], False),
    "price": (lambda r: r["price_usd"], True),
}

#: How the caption names a snapshot's tie model (``Snapshot.ties_model``, see
#: arena.ratings.published) and words its ``tie_rate`` (a format for a percentage).
TIE_MODELS = {
    "davidson": ("Davidson tie model", "ties between equal models: {}"),
    "decisive": ("fitted on decisive votes, ties left out", "ties: {} of votes"),
    "half": ("ties counted as half a win", "ties: {} of votes"),
}


@dataclass(frozen=True)
class LeaderboardPage:
    """A board with its rows in the asked order, the charts' data (None without a snapshot,
    see ``plots.chart_data``), every scope for the menu, the sort (``ascending``: the order
    the table shows, for ``aria-sort``), how long ago the snapshot was published and how it
    fitted ties (both None without a snapshot).

    Rows carry the board's fact columns and ``price_text`` (see ``price_text``); ``facts``
    holds the ``ModelFacts`` of the board's models by pk. Deprecated models are left out of
    the rows unless ``show_deprecated``; ``deprecated_hidden`` says how many were.
    """

    board: boards.Board
    charts: dict[str, Any] | None
    menu: list[boards.ScopeInfo]
    sort: str
    reverse: bool
    ascending: bool
    published_ago: str | None
    tie_note: str | None
    facts: dict[int, ModelFacts]
    show_deprecated: bool
    deprecated_hidden: int

    @property
    def tabs(self) -> list[boards.ScopeInfo]:
        """Overall and each category, for the tabs."""
        return [s for s in self.menu if s.kind != "competition"]

    @property
    def competitions(self) -> list[boards.ScopeInfo]:
        """Every public competition, titled by name and edition, for the competition list."""
        return [s for s in self.menu if s.kind == "competition"]


def ago(seconds: float) -> str:
    """A short age: ``40 s ago``, ``3 min ago``, ``2 h ago``, ``5 d ago`` (never negative)."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def tie_note(ties_model: str, tie_rate: float | None) -> str:
    """How a snapshot fitted ties, for the caption: ``Davidson tie model · ties between equal
    models: 12%`` (an unknown model is named as stored; no rate when ``tie_rate`` is None)."""
    name, rate = TIE_MODELS.get(ties_model, (f"{ties_model} tie model", "tie rate: {}"))
    if tie_rate is None:
        return name
    return f"{name} · {rate.format(f'{100 * tie_rate:.0f}%')}"


def sort_rows(rows: list[dict[str, Any]], sort: str, *, reverse: bool = False) -> None:
    """Sort board rows in place by the key ``sort`` of ``SORTS`` (its first-click order, or
    the opposite when ``reverse``); rows without a value (not yet ranked) stay last, in the
    board's order."""
    value, first_ascending = SORTS[sort]
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    ascending = first_ascending != reverse
    # A stable sort: equal values keep the board's order, in either direction.
    present.sort(key=value, reverse=not ascending)
    rows[:] = present + missing


def price_text(usd: Decimal | None) -> str | None:
    """The cost of one image in two significant figures (``$0.0030``), None when unknown."""
    if usd is None:
        return None
    return format_price("per_image", usd).removesuffix(PRICING_SUFFIX["per_image"])


def leaderboard_page(
    session: Session,
    key: str,
    *,
    sort: str = "rank",
    reverse: bool = False,
    show_deprecated: bool = False,
    now: dt.datetime | None = None,
) -> LeaderboardPage:
    """The page of the scope ``key``, its table sorted by ``sort`` (unknown keys: ``rank``).

    Args:
        show_deprecated: keep the rows of deprecated models (default: leave them out; ranks
            stay the published ones).
        now: the time the snapshot's age is measured from (default: now).

    Raises:
        ValidationError: ``key`` is not a scope key.
        NotFound: no such category or competition.
    """
    board = boards.board(session, key)
    deprecated = [row for row in board.rows if row["status"] == "deprecated"]
    if not show_deprecated:
        board.rows = [row for row in board.rows if row["status"] != "deprecated"]
    for row in board.rows:
        row["price_text"] = price_text(row["price_usd"])
    sort = sort if sort in SORTS else "rank"
    sort_rows(board.rows, sort, reverse=reverse)
    snapshot = board.snapshot
    published_ago = note = None
    if snapshot is not None:
        published_ago = ago(((now or utcnow()) - snapshot.computed_at).total_seconds())
        note = tie_note(snapshot.ties_model, snapshot.tie_rate)
    return LeaderboardPage(
        board=board,
        charts=plots.chart_data(session, board),
        menu=boards.scope_menu(session),
        sort=sort,
        reverse=reverse,
        ascending=SORTS[sort][1] != reverse,
        published_ago=published_ago,
        tie_note=note,
        facts=board.facts,
        show_deprecated=show_deprecated,
        deprecated_hidden=0 if show_deprecated else len(deprecated),
    )
