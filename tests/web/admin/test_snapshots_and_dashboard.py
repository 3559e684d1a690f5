"""Publishing snapshots from the admin, and the dashboard's figures."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from arena.models import Snapshot
from arena.services import voting
from arena.web.db import get_db


def _vote(app, n):
    with app.app_context():
        db = get_db()
        voter = voting.ensure_voter(db, None)
        rng = random.Random(2)
        for _ in range(n):
            battle = voting.issue_battle(db, voter, "fantasy-warrior-ii", rng=rng)
            voting.record_vote(db, battle.token, voter, rng.choice(["left", "right", "tie"]), k=32)


def _snapshots(app) -> int:
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(func.count()).select_from(Snapshot))


def test_admin_publish_snapshot_creates_one_per_scope(voting_admin):
    app = voting_admin.client.application
    form = voting_admin.page("/admin/snapshots")
    assert 'value="1000"' in form and '<label for="f-bootstrap">' in form
    assert "No snapshot has been published yet" in form
    nothing = voting_admin.post("/admin/snapshots", {"bootstrap": "10"})
    assert nothing.status_code == 200 and "nothing to publish" in nothing.get_data(as_text=True)

    _vote(app, 12)
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


def test_admin_dashboard_counts_and_links(voting_admin):
    app = voting_admin.client.application
    _vote(app, 3)
    html = voting_admin.page("/admin/")
    assert "<dt>Models</dt><dd>27</dd>" in html
    assert "<dt>Open</dt><dd>" in html and "<dt>Draft</dt><dd>" in html
    assert "<dt>Done</dt><dd>44</dd>" in html  # 42 + the two of the second competition
    assert "<dt>Total</dt><dd>3</dd>" in html and "<dt>Last 24 h</dt><dd>3</dd>" in html
    assert "<dt>Latest</dt><dd>never</dd>" in html
    for url in (
        "/admin/models",
        "/admin/categories",
        "/admin/competitions",
        "/admin/outputs",
        "/admin/snapshots",
    ):
        assert f'href="{url}"' in html
    assert 'id="signals"' in html
