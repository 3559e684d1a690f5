"""Publishing snapshots from the admin, and the dashboard's figures."""

from __future__ import annotations

import datetime as dt
import re

import yaml
from sqlalchemy import func, select, update

from arena.models import Competition, Model, Output, Snapshot, Vote
from arena.web.db import get_db
from tests.conftest import ROOT


def _snapshots(app) -> int:
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(func.count()).select_from(Snapshot))


def test_admin_publish_snapshot_creates_one_per_scope(voting_admin, votes):
    app = voting_admin.client.application
    form = voting_admin.page("/admin/snapshots")
    assert 'value="1000"' in form and '<label for="f-bootstrap">' in form
    assert "No snapshot has been published yet" in form
    nothing = voting_admin.post("/admin/snapshots", {"bootstrap": "10"})
    assert nothing.status_code == 200 and "nothing to publish" in nothing.get_data(as_text=True)

    votes.cast(12, choice=("left", "right", "tie"), seed=2)
    for bad in ("10001", "-1", "many"):
        refused = voting_admin.post("/admin/snapshots", {"bootstrap": bad})
        assert refused.status_code == 400, bad
        assert 'id="f-bootstrap-error"' in refused.get_data(as_text=True)
    assert _snapshots(app) == 0

    published = voting_admin.post("/admin/snapshots", {"bootstrap": "50", "seed": "4"})
    assert published.status_code == 200
    html = published.get_data(as_text=True)
    assert _snapshots(app) == 3  # overall, category:portrait, competition:fantasy-warrior-ii
    assert "<dt>Scopes</dt><dd>3</dd>" in html
    assert "<dt>Votes counted</dt>" in html and "<dt>Time taken</dt>" in html
    for scope in ("overall", "category:portrait", "competition:fantasy-warrior-ii"):
        assert f"<code>{scope}</code>" in html
    assert voting_admin.client.get("/api/v1/leaderboards/overall").get_json()["snapshot_id"]


def _facts(html: str, section: str) -> dict[str, str]:
    """The ``<dt>``/``<dd>`` pairs of one dashboard card, by its heading id."""
    card = html[html.index(f'id="{section}"') :]
    card = card[: card.index("</dl>")]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", card))


def test_admin_dashboard_counts_and_links(voting_admin, votes):
    app = voting_admin.client.application
    votes.cast(3, choice=("left", "right", "tie"), seed=2)
    with app.app_context(), get_db().session() as session:
        # One vote a day old: in the total, not in the last 24 hours.
        first = session.scalar(select(Vote).order_by(Vote.id))
        first.created_at -= dt.timedelta(hours=25)
        session.execute(update(Model).where(Model.slug == "cogview4").values(status="deprecated"))
        session.commit()
        models = session.scalar(select(func.count()).select_from(Model))
        done = session.scalar(
            select(func.count()).select_from(Output).where(Output.status == "done")
        )
        statuses = dict(
            session.execute(
                select(Competition.status, func.count()).group_by(Competition.status)
            ).all()
        )
    html = voting_admin.page("/admin/")
    assert _facts(html, "stat-catalog") == {
        "Models": str(models),
        "Active": str(models - 1),
        "Categories": str(len(_seed_categories())),
    }
    assert _facts(html, "stat-competitions") == {
        "Open": str(statuses.get("open", 0)),
        "Draft": str(statuses.get("draft", 0)),
        "Closed": str(statuses.get("closed", 0)),
    }
    assert _facts(html, "stat-outputs")["Done"] == str(done) and done > 0
    assert _facts(html, "stat-votes") == {
        "Total": "3",
        "Last 24 h": "2",
        "Voters": "1",
        "Flagged": "0",
    }
    assert _facts(html, "stat-snapshots") == {"Published": "0", "Latest": "never"}
    for url in (
        "/admin/models",
        "/admin/categories",
        "/admin/competitions",
        "/admin/outputs",
        "/admin/snapshots",
    ):
        assert f'href="{url}"' in html
    assert 'id="signals"' in html


def _seed_categories() -> list[dict]:
    return yaml.safe_load((ROOT / "seeds" / "categories.yaml").read_text())["categories"]


def test_admin_dashboard_links_the_latest_data_dump(voting_admin, votes):
    from arena.services import dumps

    app = voting_admin.client.application
    assert "No dump yet" in voting_admin.page("/admin/")
    votes.cast(4, seed=3)
    with app.app_context():
        folder = dumps.dump_folder(app.config["MEDIA_DIR"])
        dumps.write_dump(get_db(), folder, app.config["SECRET_KEY"])
    html = voting_admin.page("/admin/")
    assert _facts(html, "stat-dumps")["Last vote"] != ""
    for name in ("votes.csv.gz", "votes.jsonl.gz", "leaderboards.csv.gz"):
        assert f'href="/api/v1/dumps/{name}"' in html
    response = voting_admin.client.get("/api/v1/dumps/votes.csv.gz")
    response.close()  # the file is streamed from disk: close it
    assert response.status_code == 200
