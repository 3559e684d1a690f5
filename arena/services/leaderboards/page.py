"""What a leaderboard page shows: a board sorted as asked, its charts' data and the scopes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from arena.services.leaderboards import boards, plots

#: The table's sort keys, each the order of its first click (best first).
SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "rank": lambda r: (r["rank"], r["model_name"]),
    "model": lambda r: r["model_name"].lower(),
    "creator": lambda r: ((r["creator"] or "~").lower(), r["rank"]),
    "elo": lambda r: -r["elo"],
    "bt": lambda r: -(r["bt_rating"] if r["bt_rating"] is not None else float("-inf")),
    "battles": lambda r: -r["battles"],
    "win_rate": lambda r: -r["win_rate"],
}


@dataclass(frozen=True)
class LeaderboardPage:
    """A board with its rows in the asked order, the charts' data (None without a snapshot,
    see ``plots.chart_data``) and every scope for the menu."""

    board: boards.Board
    charts: dict[str, Any] | None
    menu: list[boards.ScopeInfo]
    sort: str
    reverse: bool


def leaderboard_page(
    session: Session, key: str, *, sort: str = "rank", reverse: bool = False
) -> LeaderboardPage:
    """The page of the scope ``key``, its table sorted by ``sort`` (unknown keys: ``rank``).

    Raises:
        ValidationError: ``key`` is not a scope key.
        NotFound: no such category or competition.
    """
    board = boards.board(session, key)
    sort = sort if sort in SORTS else "rank"
    board.rows.sort(key=SORTS[sort], reverse=reverse)
    return LeaderboardPage(
        board=board,
        charts=plots.chart_data(session, board),
        menu=boards.scope_menu(session),
        sort=sort,
        reverse=reverse,
    )
