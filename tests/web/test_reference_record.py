"""The reference page's arena record (docs/reference-model-page.md), rebuilt from imported votes.

The reference shows for hidream-i1-fast in Fantasy Warrior: "Elo … · 9W / 31L / 2T (42
battles) · Rank #13 of 21" and a win rate of 21.4%. Twelve models beat it, it beats eight.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from arena.services.seeding import load_seeds
from arena.web.db import get_db

HIDREAM = "hidream-i1-fast"


@pytest.fixture
def reference_app(app, small_seeds: Path):
    path = small_seeds / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    models = sorted(
        yaml.safe_load(p.read_text())["id"] for p in (small_seeds / "models").glob("*.yaml")
    )
    others = [m for m in models if m != HIDREAM][:20]
    data["competitions"][0]["models"] = [HIDREAM, *others]  # fantasy-warrior: 21 models
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return app, others[:12], others[12:]


def test_leaderboard_shows_the_reference_record_from_imported_votes(reference_app, tmp_path):
    app, stronger, weaker = reference_app
    rows = [(HIDREAM, stronger[i % 12], "model_b") for i in range(31)]
    rows += [(weaker[i % 8], HIDREAM, "model_b") for i in range(9)]
    rows += [(HIDREAM, weaker[i], "tie") for i in range(2)]
    rows += [(stronger[i % 12], weaker[i % 8], "model_a") for i in range(80)]
    dump = tmp_path / "battles.csv"
    pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]).to_csv(dump, index=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-votes", str(dump), "--competition", "fantasy-warrior"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["recompute", "--bootstrap", "100", "--seed", "1"]).exit_code == 0

    client = app.test_client()
    body = client.get("/api/v1/leaderboards/competition:fantasy-warrior").get_json()
    row = next(r for r in body["rows"] if r["model_id"] == HIDREAM)
    assert (row["rank"], row["rank_of"]) == (13, 21)
    assert (row["wins"], row["losses"], row["ties"], row["battles"]) == (9, 31, 2, 42)
    assert round(100 * row["win_rate"], 1) == 21.4

    html = client.get("/leaderboard/competition/fantasy-warrior").get_data(as_text=True)
    line = next(tr for tr in html.split("<tr") if f'data-model="{HIDREAM}"' in tr)
    assert re.search(r"#13 <span class=\"muted\">of 21</span>", line)
    assert "9W / 31L / 2T" in line and "21.4%" in line and ">42<" in line
