"""The leaderboard page's view: sorts that keep unranked rows last, the snapshot's age and tie
model in words, from a real published snapshot."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from arena.models import Model
from arena.services.leaderboards import page
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db
from tests.services.leaderboards.swing import cast_swing


@pytest.fixture
def published(voting_app, votes):
    """A published snapshot, then battles for a model it does not rank (cogview4)."""
    cast_swing(voting_app, decided=40, upsets=8)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=20, seed=1)
    votes.cast(2, competition="heroic-super-hero-portrait")
    with voting_app.app_context(), get_db().session() as session:
        yield session


#: Each sort key, the row value it sorts by, and whether its first click is ascending.
SORTS = [
    ("rank", "rank", True),
    ("rank_ub", "rank_ub", True),
    ("bt", "bt_rating", False),
    ("tie_rate", "tie_rate", False),
    ("elo", "elo", False),
    ("battles", "battles", False),
    ("win_rate", "win_rate", False),
    ("price", "price_usd", True),
]


def test_every_sort_orders_both_ways_with_unranked_rows_last(published):
    assert {key for key, _, _ in SORTS} | {"model"} == set(page.SORTS)
    for sort, value, first_ascending in SORTS:
        for reverse in (False, True):
            view = page.leaderboard_page(published, "overall", sort=sort, reverse=reverse)
            rows = view.board.rows
            present = [r[value] for r in rows if r[value] is not None]
            ascending = first_ascending != reverse
            assert view.ascending == ascending and view.sort == sort
            assert present == sorted(present, reverse=not ascending), (sort, reverse)
            missing = [r for r in rows if r[value] is None]
            assert rows[len(present) :] == missing  # no value (not yet ranked): always last
            if value in ("rank", "rank_ub", "bt_rating", "tie_rate"):
                assert [r["model_id"] for r in missing] == ["cogview4"]


def test_model_sort_and_unknown_sorts(published):
    names = [
        r["model_name"].lower()
        for r in page.leaderboard_page(published, "overall", sort="model").board.rows
    ]
    assert names == sorted(names)
    default = page.leaderboard_page(published, "overall")
    assert page.leaderboard_page(published, "overall", sort="creator").sort == "rank"
    assert [
        r["model_id"] for r in page.leaderboard_page(published, "overall", sort="nope").board.rows
    ] == [r["model_id"] for r in default.board.rows]


def test_page_says_how_old_the_snapshot_is_and_how_ties_were_fitted(published):
    view = page.leaderboard_page(published, "overall")
    snapshot = view.board.snapshot
    later = snapshot.computed_at + dt.timedelta(seconds=40)
    assert page.leaderboard_page(published, "overall", now=later).published_ago == "40 s ago"
    assert view.tie_note == page.tie_note(snapshot.ties_model, snapshot.tie_rate)
    assert view.charts is not None and view.menu[0].key == "overall"
    fresh = page.leaderboard_page(published, "competition:heroic-super-hero-portrait")
    assert fresh.board.snapshot is None and fresh.published_ago is None and fresh.tie_note is None
    assert fresh.charts is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-3, "0 s ago"), (0, "0 s ago"), (59.9, "59 s ago"), (60, "1 min ago"), (3599, "59 min ago"),
     (7200, "2 h ago"), (86400 * 5 + 10, "5 d ago")],
)  # fmt: skip
def test_ago(seconds, text):
    assert page.ago(seconds) == text


def test_tie_note_names_each_tie_model():
    assert page.tie_note("davidson", 0.12) == "Davidson tie model · ties between equal models: 12%"
    assert (
        page.tie_note("decisive", 0.3)
        == "fitted on decisive votes, ties left out · ties: 30% of votes"
    )
    assert page.tie_note("half", None) == "ties counted as half a win"
    assert page.tie_note("other", None) == "other tie model"


def test_page_rows_carry_facts_and_leave_out_deprecated_models_unless_asked(published):
    view = page.leaderboard_page(published, "overall")
    schnell = next(r for r in view.board.rows if r["model_id"] == "flux-1-schnell")
    assert (schnell["license"], schnell["open_weights"]) == ("Apache-2.0", True)
    assert (schnell["price_label"], schnell["price_text"]) == ("$0.0030/image", "$0.0030")
    assert set(view.facts) == {r["model_pk"] for r in view.board.rows}
    assert view.deprecated_hidden == 0 and not view.show_deprecated
    published.execute(update(Model).where(Model.slug == "sdxl").values(status="deprecated"))
    published.commit()
    hidden = page.leaderboard_page(published, "overall")
    assert "sdxl" not in [r["model_id"] for r in hidden.board.rows]
    assert hidden.deprecated_hidden == 1
    assert len(hidden.board.rows) == len(view.board.rows) - 1
    shown = page.leaderboard_page(published, "overall", show_deprecated=True)
    assert "sdxl" in [r["model_id"] for r in shown.board.rows] and shown.deprecated_hidden == 0


def test_page_tabs_are_overall_and_categories_and_competitions_carry_editions(published):
    view = page.leaderboard_page(published, "competition:fantasy-warrior-ii")
    assert [t.kind for t in view.tabs][:2] == ["overall", "category"]
    assert {t.kind for t in view.tabs} == {"overall", "category"}
    titles = {c.slug: (c.title, c.category) for c in view.competitions}
    assert titles["fantasy-warrior"] == ("Fantasy Warrior · edition 1", "Portrait")
    assert titles["fantasy-warrior-ii"] == ("Fantasy Warrior · edition 2", "Portrait")
    assert view.board.scope.title == "Fantasy Warrior · edition 2"
    assert view.board.scope.category == "Portrait"
