"""The leaderboard's charts section from real votes and a published snapshot."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from arena.services.leaderboards.boards import board
from arena.services.leaderboards.facts import model_facts
from arena.services.leaderboards.plots import chart_data
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db
from arena.web.figures import figures

NS = "{http://www.w3.org/2000/svg}"
BOARD = "/leaderboard/competition/fantasy-warrior-ii"


@pytest.fixture
def published(voting_app, votes):
    votes.cast(40, seed=9)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=30, seed=3)
    return voting_app


def test_charts_section_draws_every_chart_at_a_readable_size(published):
    html = published.test_client().get(BOARD).get_data(as_text=True)
    for chart in ("ratings", "predicted", "price", "latency", "history", "win-fraction"):
        assert f'id="chart-{chart}"' in html
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 14  # seven charts, each wide and narrow
    for markup in svgs:
        root = ET.fromstring(markup)
        assert root.get("class") == "chart-fixed" and root.get("width")  # never scaled down
        sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
        assert min(sizes) >= 11
    phone = re.findall(r'<div class="chart-box chart-narrow"[^>]*>(<svg .*?</svg>)', html, re.S)
    matrices = ("row model against column model", "Battles between each pair")
    fitted = [ET.fromstring(m) for m in phone if not any(t in m for t in matrices)]
    assert len(fitted) == 4  # ratings, price, latency, Elo: as wide as a phone's card
    assert all(float(root.get("width")) <= 330 for root in fitted)
    section = html.split('id="charts-heading"')[1]
    assert "(provisional)" not in section  # a hollow dot and one legend entry instead
    assert section.count("provisional (fewer than") in (0, 2)  # once per variant, if at all


def test_charts_say_what_the_matrix_predicts_and_where_latency_comes_from(published):
    html = published.test_client().get(BOARD).get_data(as_text=True)
    assert "1 / (1 + 10^((r_column − r_row) / 400))" in html
    assert "wins a decisive vote" in html and "Ties are left out, as in the fit." in html
    # Every output of the test competition was drawn by the offline stand-in provider.
    assert "Every latency here was measured on the builtin stand-in provider" in html


def test_scatter_plots_show_the_models_with_a_known_fact_and_list_the_others(published):
    with published.app_context(), get_db().session() as session:
        b = board(session, "competition:fantasy-warrior-ii")
        data = chart_data(session, b)
        facts = model_facts(session, data["model_ids"])
        drawn = figures(data)
    priced = {data["names"][i] for i, pk in enumerate(data["model_ids"]) if facts[pk].price_usd}
    assert priced and len(priced) < len(data["names"])  # the seeds price some models only
    price = drawn["price"]
    assert set(price["missing"]) == set(data["names"]) - priced
    root = ET.fromstring(str(price["wide"]))
    dots = [c for c in root.iter(f"{NS}circle") if c.get("tabindex") == "0"]
    assert {d.find(f"{NS}title").text.split(":")[0] for d in dots} == priced
    assert all("per image" in d.find(f"{NS}title").text for d in dots)
    latency = drawn["latency"]
    assert latency["shown"] == len(data["names"]) and latency["missing"] == []
    assert set(latency["hollow"]) == set(data["names"])  # all measured on the stand-in


def test_no_charts_before_a_snapshot(voting_app, votes):
    votes.cast(5)
    html = voting_app.test_client().get(BOARD).get_data(as_text=True)
    assert 'id="charts-heading"' not in html and "<svg" not in html
