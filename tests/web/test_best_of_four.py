"""Best-of-four battles through the JSON API: the shape, anonymity, what a pick and a ranking
count, bad input, and nothing lost or counted twice under concurrent voters (both databases).
"""

from __future__ import annotations

import io
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from arena.models import Battle, Model, Rating, Scope, Vote
from arena.services.leaderboards import publishing
from arena.services.verification import verify
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"
SCOPE = f"competition:{COMPETITION}"


@pytest.fixture
def api(voting_app):
    return voting_app.test_client()


def _four(client, **extra):
    response = client.post("/api/v1/battles", json={"competition": COMPETITION, "size": 4, **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _records(app, scope=SCOPE) -> dict[str, tuple[int, int, int, float]]:
    """Model slug -> (wins, losses, ties, elo) in a scope."""
    with app.app_context(), get_db().session() as session:
        rows = session.execute(
            select(Model.slug, Rating.wins, Rating.losses, Rating.ties, Rating.elo)
            .join(Rating, Rating.model_id == Model.id)
            .join(Scope, Scope.id == Rating.scope_id)
            .where(Scope.key == scope)
        ).all()
    return {slug: (w, lo, t, e) for slug, w, lo, t, e in rows}


def _verify(app) -> int:
    with app.app_context(), get_db().session() as session:
        mismatches, count = verify(session, app.config["ELO_K"])
    assert mismatches == []
    return count


def test_a_four_image_battle_has_the_contract_shape_and_names_no_model(api, voting_app):
    body = _four(api)
    assert set(body) == {"token", "competition", "prompt", "images", "expires_at"}
    assert len(body["images"]) == 4 and all(set(i) == {"image_url"} for i in body["images"])
    urls = [i["image_url"].replace("http://localhost", "") for i in body["images"]]
    assert len(set(urls)) == 4
    with voting_app.app_context(), get_db().session() as session:
        slugs = list(session.scalars(select(Model.slug)))
    text = str(body)
    assert not any(slug in text for slug in slugs)
    sizes, lengths, digests = set(), set(), set()
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200 and response.mimetype == "image/webp"
        sizes.add(Image.open(io.BytesIO(response.data)).size)
        lengths.add(int(response.headers["Content-Length"]))
        digests.add(hash(response.data))
        assert not any(slug.encode() in response.data for slug in slugs)
    # One format, one size, one padded length; four different byte strings.
    assert sizes == {(96, 64)} and len(lengths) == 1 and len(digests) == 4
    # Only the voter it was issued to is shown the images, as for two-image battles.
    stranger = voting_app.test_client()
    assert all(stranger.get(url).status_code == 404 for url in urls)


def test_four_images_are_four_models_on_one_prompt(api, voting_app):
    _four(api)
    with voting_app.app_context(), get_db().session() as session:
        battle = session.scalars(select(Battle)).one()
        from arena.models import BattleEntry, Output

        entries = session.scalars(
            select(BattleEntry).where(BattleEntry.battle_id == battle.id)
        ).all()
        assert [e.position for e in entries] == [0, 1, 2, 3]
        assert len({e.model_id for e in entries}) == 4
        prompts = {session.get(Output, e.output_id).prompt_id for e in entries}
        assert prompts == {battle.prompt_id}
        assert battle.size == 4
        assert (battle.left_output_id, battle.right_output_id) == (
            entries[0].output_id,
            entries[1].output_id,
        )


def test_a_best_pick_counts_three_wins_over_the_other_three(api, voting_app):
    body = _four(api)
    before = _records(voting_app)
    response = api.post(f"/api/v1/battles/{body['token']}/vote", json={"best": 2})
    assert response.status_code == 200, response.get_data(as_text=True)
    reveal = response.get_json()
    assert reveal["best"] == 2 and reveal["ranking"] == [[2]] and reveal["counted"] is True
    assert len(reveal["images"]) == 4 and len(reveal["vote_ids"]) == 3
    images = reveal["images"]
    for image in images:
        assert {"model_id", "model_name", "elo_before", "elo_after"} <= set(image)
    assert images[2]["elo_after"] > images[2]["elo_before"]
    for i in (0, 1, 3):
        assert images[i]["elo_after"] < images[i]["elo_before"]
    after = _records(voting_app)
    pick = images[2]["model_id"]
    assert after[pick][:3] == (before[pick][0] + 3, before[pick][1], before[pick][2])
    for i in (0, 1, 3):
        slug = images[i]["model_id"]
        assert after[slug][:3] == (before[slug][0], before[slug][1] + 1, before[slug][2])
        assert after[slug][3] == pytest.approx(images[i]["elo_after"])
    assert after[pick][3] == pytest.approx(images[2]["elo_after"])
    with voting_app.app_context(), get_db().session() as session:
        rows = session.execute(select(Vote.battle_id, Vote.winner).order_by(Vote.id)).all()
    assert len(rows) == 3 and len({r.battle_id for r in rows}) == 1
    assert _verify(voting_app) == 3


def test_a_full_ranking_counts_every_pair_and_ties_within_a_tier(api, voting_app):
    body = _four(api)
    response = api.post(
        f"/api/v1/battles/{body['token']}/vote", json={"ranking": [[3], [0, 2], [1]]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    reveal = response.get_json()
    assert reveal["best"] == 3 and len(reveal["vote_ids"]) == 6
    records = _records(voting_app)
    slug = [image["model_id"] for image in reveal["images"]]
    assert records[slug[3]][:3] == (3, 0, 0)
    assert records[slug[0]][:3] == (1, 1, 1) and records[slug[2]][:3] == (1, 1, 1)
    assert records[slug[1]][:3] == (0, 3, 0)
    with voting_app.app_context(), get_db().session() as session:
        winners = session.scalars(select(Vote.winner).order_by(Vote.id)).all()
    assert sorted(winners).count("tie") == 1
    assert _verify(voting_app) == 6


def test_a_four_image_vote_is_taken_once(api):
    token = _four(api)["token"]
    assert api.post(f"/api/v1/battles/{token}/vote", json={"best": 0}).status_code == 200
    again = api.post(f"/api/v1/battles/{token}/vote", json={"best": 1})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"best": 4}, "best"),
        ({"best": -1}, "best"),
        ({"best": "1"}, "best"),
        ({"best": True}, "best"),
        ({"ranking": [[0], [1], [2]]}, "ranking"),
        ({"ranking": [[0, 1], [1, 2, 3]]}, "ranking"),
        ({"ranking": [[0], [], [1, 2, 3]]}, "ranking"),
        ({"ranking": "0123"}, "ranking"),
        ({"ranking": [[0], [1], [2], [7]]}, "ranking"),
        ({"best": 1, "ranking": [[1], [0, 2, 3]]}, "best"),
        ({"best": 1, "winner": "left"}, "winner"),
        ({"winner": "left"}, "winner"),
    ],
)
def test_bad_four_image_votes_get_a_400_naming_the_field_and_leave_the_battle(api, body, field):
    token = _four(api)["token"]
    response = api.post(f"/api/v1/battles/{token}/vote", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]
    # Nothing was written: the battle still takes its one good vote.
    assert api.post(f"/api/v1/battles/{token}/vote", json={"best": 1}).status_code == 200


def test_a_two_image_battle_refuses_a_best_pick(api):
    response = api.post("/api/v1/battles", json={"competition": COMPETITION})
    token = response.get_json()["token"]
    refused = api.post(f"/api/v1/battles/{token}/vote", json={"best": 0})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "best"
    assert api.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"}).status_code == 200


@pytest.mark.parametrize("size", [3, 1, "4", None, True, 8])
def test_a_battle_size_other_than_two_or_four_is_refused(api, size):
    response = api.post("/api/v1/battles", json={"competition": COMPETITION, "size": size})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "size"


def test_a_competition_without_four_models_says_so(api):
    response = api.post(
        "/api/v1/battles", json={"competition": "heroic-super-hero-portrait", "size": 4}
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["field"] == "size" and "four models" in error["message"]


def test_the_published_fit_resamples_a_four_image_vote_whole(api, voting_app):
    for i in range(6):
        token = _four(api)["token"]
        assert api.post(f"/api/v1/battles/{token}/vote", json={"best": i % 4}).status_code == 200
    with voting_app.app_context(), get_db().session() as session:
        frame = publishing._votes_frame(session)
        # One ballot per vote as cast: six ballots of three comparisons each.
        assert sorted(frame.groupby("ballot").size().tolist()) == [3] * 6
        published = publishing.publish_snapshots(session, rounds=50, seed=1)
    assert {p.scope: p.votes for p in published}[SCOPE] == 18
    board = api.get(f"/api/v1/leaderboards/{SCOPE}").get_json()
    assert sum(row["battles"] for row in board["rows"]) == 2 * 18


# --- concurrency (real HTTP server, both databases) ---------------------------------------

VOTERS = 12
VOTES_EACH = 8


def _voter(base: str, seed: int, barrier: threading.Barrier) -> tuple[int, int]:
    """Mixed two- and four-image votes; returns (vote rows appended, ballots cast)."""
    rng = random.Random(seed)
    rows = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        barrier.wait()
        for _ in range(VOTES_EACH):
            size = rng.choice([2, 4])
            battle = client.post("/api/v1/battles", json={"competition": COMPETITION, "size": size})
            assert battle.status_code == 201, battle.text
            token = battle.json()["token"]
            if size == 2:
                body: dict = {"winner": rng.choice(["left", "right", "tie", "both_bad"])}
            elif rng.random() < 0.5:
                body = {"best": rng.randrange(4)}
            else:
                order = rng.sample(range(4), 4)
                body = {"ranking": [[order[0]], order[1:3], [order[3]]]}
            vote = client.post(f"/api/v1/battles/{token}/vote", json=body)
            assert vote.status_code == 200, vote.text
            reveal = vote.json()
            rows += len(reveal["vote_ids"]) if "vote_ids" in reveal and size == 4 else 1
    return rows, VOTES_EACH


def test_concurrent_mixed_voters_lose_nothing_and_verify_agrees(voting_app, live_server):
    barrier = threading.Barrier(VOTERS)
    with ThreadPoolExecutor(VOTERS) as pool:
        results = list(pool.map(lambda i: _voter(live_server, i, barrier), range(VOTERS)))
    rows = sum(r for r, _ in results)
    with voting_app.app_context(), get_db().session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == rows
        voted = session.scalar(
            select(func.count()).select_from(Battle).where(Battle.voted_at.is_not(None))
        )
        assert voted == VOTERS * VOTES_EACH
        battles = session.scalar(
            select(func.sum(Rating.battles))
            .join(Scope, Scope.id == Rating.scope_id)
            .where(Scope.key == "overall")
        )
    assert battles == 2 * rows
    result = voting_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    assert f"{rows} votes replayed" in result.output


def test_racing_votes_on_one_four_image_token_count_once(voting_app, live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        token = client.post("/api/v1/battles", json={"competition": COMPETITION, "size": 4}).json()[
            "token"
        ]
        cookies = dict(client.cookies)
    barrier = threading.Barrier(8)

    def vote(i: int) -> int:
        with httpx.Client(base_url=live_server, timeout=60, cookies=cookies) as c:
            barrier.wait()
            return c.post(f"/api/v1/battles/{token}/vote", json={"best": i % 4}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(vote, range(8)))
    assert codes == [200] + [409] * 7
    with voting_app.app_context(), get_db().session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 3
        assert session.scalar(select(func.sum(Rating.battles))) == 18
