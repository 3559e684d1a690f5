"""The public front pages' service: the home page, the competitions list, one competition."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import update

from arena.errors import NotFound
from arena.models import Competition
from arena.services.home import competition_page, home_page, public_competitions
from arena.web.db import get_db

ROOT = Path(__file__).resolve().parents[2]
SEED_COMPETITIONS = yaml.safe_load((ROOT / "seeds" / "competitions.yaml").read_text())[
    "competitions"
]
N_MODELS = len(list((ROOT / "seeds" / "models").glob("*.yaml")))


def _entered(seed: dict) -> int:
    return N_MODELS if seed["models"] == "all" else len(seed["models"])


def _expected(status: str) -> list[tuple]:
    """(slug, name, category, prompts, models) of the seeded competitions in ``status``."""
    return sorted(
        (c["id"], c["name"], c["category"], len(c["prompts"]), _entered(c))
        for c in SEED_COMPETITIONS
        if c["status"] == status
    )


def _summary(rows: list[dict]) -> list[tuple]:
    return [(r["slug"], r["name"], r["category"], r["prompts"], r["models"]) for r in rows]


def test_home_page_lists_the_seeded_open_and_closed_competitions_with_their_counts(seeded, session):
    page = home_page(session)
    assert _summary(page.open_competitions) == _expected("open")
    assert (
        _summary(page.closed)
        == _expected("closed")
        == [("storefront-signage", "Storefront Signage", "typography", 50, N_MODELS)]
    )
    assert {r["status"] for r in page.open_competitions} == {"open"}
    for row in page.open_competitions + page.closed:
        assert (row["outputs_done"], row["outputs_failed"], row["votes"]) == (0, 0, 0)
        assert row["outputs_missing"] == row["prompts"] * row["models"]


def test_home_page_leaves_drafts_out(seeded, session):
    session.execute(
        update(Competition).where(Competition.slug == "misty-mountains").values(status="draft")
    )
    session.commit()
    page = home_page(session)
    listed = {r["slug"] for r in page.open_competitions + page.closed}
    assert "misty-mountains" not in listed
    assert len(listed) == len(SEED_COMPETITIONS) - 1
    assert "misty-mountains" not in {r["slug"] for r in public_competitions(session)}
    with pytest.raises(NotFound, match="no competition called 'misty-mountains'"):
        competition_page(session, "misty-mountains")


def test_home_page_counts_outputs_and_votes(voting_app, votes):
    with voting_app.app_context():
        db = get_db()
        votes.cast(3, choice="left", seed=7)
        with db.session() as session:
            page = home_page(session)
    rows = {r["slug"]: r for r in page.open_competitions}
    warrior = rows["fantasy-warrior-ii"]
    assert (warrior["models"], warrior["prompts"]) == (14, 3)
    assert (warrior["outputs_done"], warrior["outputs_missing"], warrior["votes"]) == (42, 0, 3)
    heroic = rows["heroic-super-hero-portrait"]
    assert (heroic["outputs_done"], heroic["votes"]) == (2, 0)
    assert heroic["outputs_missing"] == 3 * N_MODELS - 2
    assert rows["fantasy-warrior"]["votes"] == 0


def test_public_competitions_puts_open_ones_first_then_by_name(seeded, session):
    rows = public_competitions(session)
    assert [r["slug"] for r in rows] == [
        "fantasy-warrior",
        "fantasy-warrior-ii",
        "heroic-super-hero-portrait",
        "misty-mountains",
        "product-hero-shot",
        "storefront-signage",
    ]
    assert [r["status"] for r in rows] == ["open"] * 5 + ["closed"]


def test_competition_page_carries_the_competition_and_its_status(seeded, session):
    page = competition_page(session, "fantasy-warrior")
    assert page.competition.slug == "fantasy-warrior"
    assert page.competition.category.slug == "portrait"
    assert len(page.competition.prompts) == 50
    assert page.status["slug"] == "fantasy-warrior" and page.status["models"] == N_MODELS
    for slug in ("no-such-competition", "<script>", "x" * 1000, "nul\x00"):
        with pytest.raises(NotFound):
            competition_page(session, slug)
