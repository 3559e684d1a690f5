"""The catalog listing: every seeded model, search, filters, sorts and the filter menus."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arena.errors import NotFound, ValidationError
from arena.services.catalog import listing
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parents[3]
SEED_MODELS = {
    data["id"]: data
    for data in (yaml.safe_load(p.read_text()) for p in (ROOT / "seeds" / "models").glob("*.yaml"))
}
HIDREAM = "hidream-i1-fast"


def test_list_models_lists_every_seeded_model_with_cheapest_known_price(session):
    rows = {r.slug: r for r in listing.list_models(session)}
    assert set(rows) == set(SEED_MODELS)
    hidream = rows[HIDREAM]
    assert (hidream.creator, hidream.family, hidream.status) == ("HiDream AI", "hidream", "active")
    assert hidream.cheapest is not None and hidream.cheapest.label == "$0.0050/image"
    assert hidream.cheapest.provider == "replicate"
    assert rows["sdxl"].cheapest is None  # two offerings, both without a published price
    assert rows["lumina-image-2"].cheapest is None  # no offering at all
    assert all(r.elo is None and r.battles == 0 for r in rows.values())


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hidream", {"hidream-i1-fast", "hidream-i1-dev", "hidream-i1-full"}),
        ("HIDREAM i1 FAST", {"hidream-i1-fast"}),  # name, case-insensitive
        (
            "black forest",
            {s for s, m in SEED_MODELS.items() if m["creator"] == "Black Forest Labs"},
        ),
        ("open-weights", {s for s, m in SEED_MODELS.items() if "open-weights" in m["tags"]}),
        (
            "stable-diffusion",
            {s for s, m in SEED_MODELS.items() if m["family"] == "stable-diffusion"},
        ),
        ("%", set()),  # LIKE wildcards are searched literally
        ("no-such-model-anywhere", set()),
    ],
)
def test_list_models_searches_name_slug_creator_family_and_tags(session, q, expected):
    assert {r.slug for r in listing.list_models(session, q=q)} == expected


def test_list_models_filters_combine(session):
    def slugs(**filters):
        return {r.slug for r in listing.list_models(session, **filters)}

    assert slugs(creator="HiDream AI") == {"hidream-i1-fast", "hidream-i1-dev", "hidream-i1-full"}
    assert slugs(family="flux") == {s for s, m in SEED_MODELS.items() if m["family"] == "flux"}
    open_weights = {s for s, m in SEED_MODELS.items() if "open-weights" in m["tags"]}
    assert slugs(tag="open-weights") == open_weights
    assert slugs(tag="open") == set()  # a tag matches whole, not in part
    assert slugs(creator="HiDream AI", tag="open-weights") == {"hidream-i1-dev", "hidream-i1-full"}
    assert slugs(status="active") == set(SEED_MODELS)
    assert slugs(status="deprecated") == set()


def test_list_models_sorts_by_name_or_by_the_published_ranking_with_unranked_last(
    voting_app, votes
):
    votes.cast(30, choice=("left", "right"), seed=4)
    with voting_app.app_context(), get_db().session() as session:
        before = listing.list_models(session, sort="rating")
        publish_snapshots(session, rounds=20, seed=1)
    votes.cast(2, competition="heroic-super-hero-portrait")  # cogview4: battles, no rank yet
    with voting_app.app_context(), get_db().session() as session:
        by_name = [r.name for r in listing.list_models(session, sort="name")]
        rows = listing.list_models(session, sort="rating")
        standings = listing.overall_standings(session)
    # Before the first snapshot nothing is ranked: every model by name, whatever its Elo.
    assert all(r.rank is None for r in before) and [r.name for r in before] == sorted(by_name)
    assert by_name == sorted(by_name)
    ranked = [r for r in rows if r.rank is not None]
    unranked = [r for r in rows if r.rank is None]
    assert rows == ranked + unranked and len(ranked) == 14
    ratings = [r.bt_rating for r in ranked]
    assert ratings == sorted(ratings, reverse=True)
    assert [r.rank for r in ranked] == [1 + sum(o > x for o in ratings) for x in ratings]
    assert {r.rank_of for r in ranked} == {14} and all(r.elo is not None for r in ranked)
    assert [r.name for r in unranked] == sorted(r.name for r in unranked)
    cogview = next(r for r in unranked if r.slug == "cogview4")
    assert cogview.battles == 2 and cogview.elo is not None and cogview.bt_rating is None
    assert set(standings) == {r.slug for r in rows if r.battles}
    assert all(standings[r.slug].rank == r.rank for r in ranked)
    assert standings["cogview4"].rank is None and standings["cogview4"].published is None


def test_list_models_refuses_an_unknown_sort(session):
    with pytest.raises(ValidationError, match="sort must be one of"):
        listing.list_models(session, sort="price")


def test_catalog_filters_come_from_the_data(session):
    filters = listing.catalog_filters(session)
    assert "HiDream AI" in filters.creators and "Black Forest Labs" in filters.creators
    assert filters.families == sorted({m["family"] for m in SEED_MODELS.values()}, key=str.lower)
    assert filters.tags == sorted({t for m in SEED_MODELS.values() for t in m["tags"]})
    assert filters.statuses == ["active"]


def test_catalog_page_carries_the_filtered_rows_and_every_filter_value(session):
    page = listing.catalog_page(session, creator="HiDream AI", sort="name")
    assert [r.slug for r in page.rows] == ["hidream-i1-dev", "hidream-i1-fast", "hidream-i1-full"]
    assert page.filters == listing.catalog_filters(session)  # menus not narrowed by the filter
    assert "Black Forest Labs" in page.filters.creators
    with pytest.raises(ValidationError, match="sort must be one of"):
        listing.catalog_page(session, sort="price")


def test_get_model_loads_one_model_or_raises_not_found(session):
    model = listing.get_model(session, HIDREAM)
    assert model.slug == HIDREAM and len(model.parameters) == 16
    assert [o.provider.slug for o in model.offerings] == ["fal", "replicate"]
    with pytest.raises(NotFound):
        listing.get_model(session, "no-such-model")
