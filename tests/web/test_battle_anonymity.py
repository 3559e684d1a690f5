"""Anonymity that holds: per-battle bytes of one length, served only to their voter, made
ahead of time; seeds private while a competition is open; no repeat of revealed outputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import defaultdict
from pathlib import Path

import numpy as np
import requests
from PIL import Image
from sqlalchemy import select, update

from arena.media import image_path
from arena.models import Battle, Competition, Output, Prompt
from arena.services.voting import variants
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


def _battles(base: str, http: requests.Session, n: int) -> list[dict]:
    issued = []
    for _ in range(n):
        reply = http.post(f"{base}/api/v1/battles", json={"competition": COMPETITION})
        assert reply.status_code == 201, reply.text
        issued.append(reply.json())
    return issued


def _side_outputs(app) -> dict[str, int]:
    """Image key -> output id of every battle side."""
    with app.app_context(), get_db().engine.connect() as conn:
        rows = conn.execute(
            select(
                Battle.left_image_key,
                Battle.left_output_id,
                Battle.right_image_key,
                Battle.right_output_id,
            )
        ).all()
    return {key: output for row in rows for key, output in (row[:2], row[2:])}


def _original(app, output_id: int) -> np.ndarray:
    with app.app_context(), get_db().engine.connect() as conn:
        name = conn.scalar(select(Output.image_name).where(Output.id == output_id))
    with Image.open(image_path(app.config["MEDIA_DIR"], name)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_every_side_serves_fresh_bytes_of_one_length_close_to_the_original(voting_app, live_server):
    http = requests.Session()
    issued = _battles(live_server, http, 30)  # 60 sides over 42 outputs: outputs repeat
    keys = _side_outputs(voting_app)
    served: dict[int, list[bytes]] = defaultdict(list)
    lengths, hashes, payloads = set(), set(), set()
    for battle in issued:
        for side in ("left", "right"):
            reply = http.get(battle[side]["image_url"])
            assert reply.status_code == 200 and reply.headers["Content-Type"] == "image/webp"
            lengths.add(int(reply.headers["Content-Length"]))
            hashes.add(hashlib.sha256(reply.content).digest())
            size = int.from_bytes(reply.content[34:38], "little")  # the VP8 chunk after VP8X
            payloads.add(hashlib.sha256(reply.content[38 : 38 + size]).digest())
            key = battle[side]["image_url"].rsplit("/", 1)[1].removesuffix(".webp")
            served[keys[key]].append(reply.content)
    assert len(hashes) == len(payloads) == 60, "an exact hash (or VP8 payload) repeated"
    assert len(lengths) == 1, f"Content-Length varies: {lengths}"
    repeated = [output for output, images in served.items() if len(images) > 1]
    assert repeated
    gaps = []
    for output in repeated:
        first, second = (
            np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.int16)
            for b in served[output][:2]
        )
        original = _original(voting_app, output)
        assert first.shape == original.shape
        gaps.append(np.abs(first - second).mean())
        # Each channel's mean stays within one level of the original's; what differs beyond
        # the ±1 noise is the lossy encoder's own loss.
        for variant in (first, second):
            assert np.all(np.abs((variant - original).mean(axis=(0, 1))) <= 1.0)
    # Two variants of one output differ by under two levels on average (even at 96x64,
    # where the encoder's loss is largest; about 0.3 at 1024x1024).
    assert np.mean(gaps) < 2.0


def test_a_battle_image_answers_only_to_its_voter(voting_app, live_server):
    owner = requests.Session()
    url = _battles(live_server, owner, 1)[0]["left"]["image_url"]
    head = owner.head(url)
    got = owner.get(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["Content-Length"] == got.headers["Content-Length"]
    other = requests.Session()
    _battles(live_server, other, 1)  # a voter of their own, with a valid cookie
    for client in (other, requests.Session()):
        for method in (client.get, client.head):
            reply = method(url)
            assert reply.status_code == 404 and "image" not in reply.headers["Content-Type"]
    unknown = url.rsplit("/", 1)[0] + "/" + "0" * 32 + ".webp"
    assert requests.get(unknown).status_code == 404


def test_variants_come_from_the_pool_and_are_swept_after_the_vote(voting_app, client):
    settings = variants.VariantSettings(pool=1, grace=dt.timedelta(0))
    media, secret = voting_app.config["MEDIA_DIR"], voting_app.config["SECRET_KEY"]
    with voting_app.app_context():
        db = get_db()
        sources = variants.in_play(db, settings)
        for source in sources:
            variants.add_to_pool(media, secret, source)
    pool = Path(media) / "variants" / "pool"
    assert len(list(pool.glob("*/*.webp"))) == len(sources) > 0
    battle = client.post("/api/v1/battles", json={"competition": COMPETITION}).get_json()
    for side in ("left", "right"):
        assert client.get(battle[side]["image_url"]).status_code == 200
    # Both sides were moved out of their pools, not encoded: two pool files fewer.
    assert len(list(pool.glob("*/*.webp"))) == len(sources) - 2
    battle_files = list((Path(media) / "variants" / "battle").glob("*/*.webp"))
    assert len(battle_files) == 2
    with voting_app.app_context():
        assert variants.sweep(get_db(), media, settings) == 0  # not voted yet: kept
    vote = client.post(f"/api/v1/battles/{battle['token']}/vote", json={"winner": "left"})
    assert vote.status_code == 200, vote.get_json()
    with voting_app.app_context():
        assert variants.sweep(get_db(), media, settings) == 2
    assert not any(path.exists() for path in battle_files)
    with voting_app.app_context(), get_db().session() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(update(Battle).values(expires_at=past))
        session.commit()
    assert client.get(battle["left"]["image_url"]).status_code == 404  # expired: not served


def test_a_voter_is_not_shown_an_output_revealed_to_them(voting_app, votes):
    voter = votes.voter()
    votes.cast(21, voter=voter)  # 14 models x 3 prompts: 21 battles can reveal all 42
    with voting_app.app_context(), get_db().engine.connect() as conn:
        shown = conn.execute(
            select(Battle.left_output_id, Battle.right_output_id)
            .where(Battle.voter_id == voter.id)
            .order_by(Battle.id)
        ).all()
    outputs = [o for pair in shown for o in pair]
    assert len(outputs) == len(set(outputs)) == 42
    # Everything is revealed: the next battle shows the least recently revealed pair.
    votes.cast(1, voter=voter)
    with voting_app.app_context(), get_db().engine.connect() as conn:
        last = conn.execute(
            select(Battle.left_output_id, Battle.right_output_id)
            .where(Battle.voter_id == voter.id)
            .order_by(Battle.id.desc())
        ).first()
    assert set(last) == set(shown[0])


def test_seeds_stay_private_until_the_competition_closes(seeded, client):
    with seeded.app_context(), get_db().session() as session:
        competition = session.scalar(select(Competition).where(Competition.slug == COMPETITION))
        seeds = [str(p.seed) for p in competition.prompts]
        assert len(set(seeds)) == len(seeds) >= 50  # drawn per deployment, not from the file
    page = client.get(f"/competitions/{COMPETITION}").get_data(as_text=True)
    assert "private until the competition closes" in page
    assert not any(f">{seed}<" in page for seed in seeds)
    with seeded.app_context(), get_db().session() as session:
        session.execute(
            update(Competition).where(Competition.slug == COMPETITION).values(status="closed")
        )
        session.commit()
    page = client.get(f"/competitions/{COMPETITION}").get_data(as_text=True)
    assert all(f">{seed}<" in page for seed in seeds)


def test_seeding_again_keeps_the_drawn_seeds(seeded):
    from arena.services.seeding import load_seeds

    root = Path(__file__).resolve().parents[2] / "seeds"
    with seeded.app_context(), get_db().session() as session:
        before = dict(session.execute(select(Prompt.key, Prompt.seed)).all())
        load_seeds(session, root)
        assert dict(session.execute(select(Prompt.key, Prompt.seed)).all()) == before
