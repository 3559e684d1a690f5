"""New voters are not free: address hashes, the proof of work, the new-voter limit per address.

Real HTTP on 127.0.0.1 (``live_server``) against SQLite and PostgreSQL; the solutions are
found with the ``altcha`` library, as any client would.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import altcha
import httpx
import pytest
from sqlalchemy import select

from arena.models import Vote, Voter
from arena.services.voting import proof
from arena.services.voting.voters import address_hashes, derive_key
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


@pytest.fixture
def pow_app(voting_app):
    """The voting app with the proof of work on (the default outside tests)."""
    voting_app.config["POW"] = True
    voting_app.config["POW_MAXNUMBER"] = 2000
    return voting_app


def _solve(challenge: dict) -> str:
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    assert solution is not None
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _verify(http: httpx.Client) -> str:
    """Fetch, solve and send a challenge; returns the solution sent."""
    challenge = http.get("/api/v1/voters/challenge")
    assert challenge.status_code == 200
    assert set(challenge.json()) == {"algorithm", "challenge", "salt", "signature", "maxnumber"}
    solution = _solve(challenge.json())
    response = http.post("/api/v1/voters/verify", json={"altcha": solution})
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    return solution


def _battle(http: httpx.Client) -> str:
    response = http.post("/api/v1/battles", json={"competition": COMPETITION})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def test_address_hashes_are_keyed_and_group_networks():
    key = derive_key("secret", "address-hash")
    a1, n1 = address_hashes(key, "203.0.113.7")
    a2, n2 = address_hashes(key, "203.0.113.200")
    _, n3 = address_hashes(key, "203.0.114.7")
    assert len(a1) == len(n1) == 32 and int(a1, 16) >= 0
    assert a1 != a2 and n1 == n2 and n1 != n3
    v1, m1 = address_hashes(key, "2001:db8:1:2::1")
    v2, m2 = address_hashes(key, "2001:db8:1:ffff::9")
    _, m3 = address_hashes(key, "2001:db8:2::1")
    assert v1 != v2 and m1 == m2 and m1 != m3
    assert address_hashes(derive_key("other", "address-hash"), "203.0.113.7") != (a1, n1)
    # An IPv4-mapped IPv6 address is its IPv4 network.
    assert address_hashes(key, "::ffff:203.0.113.9")[1] == n1


def test_voters_and_votes_record_address_hashes(voting_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        token = _battle(http)
        assert http.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"}).is_success
    expected = address_hashes(derive_key("test-secret", "address-hash"), "127.0.0.1")
    with voting_app.app_context(), get_db().session() as session:
        voter = session.execute(select(Voter)).scalar_one()
        vote = session.execute(select(Vote)).scalar_one()
    assert (voter.address_hash, voter.network_hash) == expected
    assert vote.address_hash == expected[0]
    assert voter.verified_at is None  # POW is off in this app: nothing asked of the voter


def test_challenge_solve_verify_then_the_vote_counts(pow_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        token = _battle(http)
        refused = http.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "voter_unverified"
        assert "/api/v1/voters/verify" in error["message"]
        _verify(http)
        # The refused vote left the battle unclaimed: it takes the vote now.
        voted = http.post(f"/api/v1/battles/{token}/vote", json={"winner": "left"})
        assert voted.status_code == 200, voted.text
        assert voted.json()["counted"] is True
        voter_id = http.cookies.get("arena")
    assert voter_id
    with pow_app.app_context(), get_db().session() as session:
        voter = session.execute(select(Voter)).scalar_one()
    assert voter.verified_at is not None


def test_verify_without_a_cookie_makes_a_verified_voter(pow_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        _verify(http)
        token = _battle(http)
        assert http.post(f"/api/v1/battles/{token}/vote", json={"winner": "tie"}).status_code == 200
    with pow_app.app_context(), get_db().session() as session:
        assert len(session.execute(select(Voter)).scalars().all()) == 1


def test_unverified_vote_from_the_page_form_is_refused(pow_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        page = http.get("/arena/" + COMPETITION)
        assert 'id="voter-proof"' in page.text
        token = page.text.split('name="token" value="')[1].split('"')[0]
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"token": token, "winner": "left", "csrf_token": csrf}
        refused = http.post("/arena/vote", data=form, headers={"HX-Request": "true"})
        assert refused.status_code == 403
        assert "not verified" in refused.text
        _verify(http)
        assert 'id="voter-proof"' not in http.get("/arena/" + COMPETITION).text
        assert http.post("/arena/vote", data=form, headers={"HX-Request": "true"}).is_success


def test_a_replayed_solution_is_refused(pow_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        solution = _verify(http)
    with httpx.Client(base_url=live_server) as other:  # a new cookie, the same solution
        replay = other.post("/api/v1/voters/verify", json={"altcha": solution})
    assert replay.status_code == 409
    assert replay.json()["error"]["field"] == "altcha"


def test_an_expired_challenge_is_refused(pow_app, live_server):
    key = derive_key("test-secret", "altcha")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    made = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(max_number=100, hmac_key=key, expires=past)
    )
    challenge = made.to_dict() | {"maxnumber": made.max_number}
    with httpx.Client(base_url=live_server) as http:
        response = http.post("/api/v1/voters/verify", json={"altcha": _solve(challenge)})
    assert response.status_code == 410
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "altcha_value",
    [None, 7, "", "not base64!", base64.b64encode(b"[1, 2]").decode(), "A" * 3000],
)
def test_malformed_solutions_are_400_naming_the_field(pow_app, live_server, altcha_value):
    with httpx.Client(base_url=live_server) as http:
        response = http.post("/api/v1/voters/verify", json={"altcha": altcha_value})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "altcha"


def test_a_wrong_number_or_a_foreign_key_is_refused(pow_app, live_server):
    with httpx.Client(base_url=live_server) as http:
        challenge = http.get("/api/v1/voters/challenge").json()
        payload = json.loads(base64.b64decode(_solve(challenge)))
        wrong = payload | {"number": payload["number"] + 1}
        encoded = base64.b64encode(json.dumps(wrong).encode()).decode()
        assert http.post("/api/v1/voters/verify", json={"altcha": encoded}).status_code == 400
        foreign = proof.create_challenge(b"another arena", 100, dt.datetime.now(dt.UTC))
        response = http.post("/api/v1/voters/verify", json={"altcha": _solve(foreign)})
        assert response.status_code == 400


def test_new_voters_per_address_are_limited_and_known_voters_go_on(voting_app, live_server):
    voting_app.config["NEW_VOTERS_PER_ADDRESS"] = "3/hour"
    known = httpx.Client(base_url=live_server)
    try:
        _battle(known)  # the first new voter of this address
        for _ in range(2):
            with httpx.Client(base_url=live_server) as newcomer:
                _battle(newcomer)
        with httpx.Client(base_url=live_server) as newcomer:
            refused = newcomer.post("/api/v1/battles", json={"competition": COMPETITION})
            page = newcomer.get("/arena")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 3600
        error = refused.json()["error"]
        assert error["code"] == "too_many_new_voters"
        assert "3/hour" in error["message"] and f"{wait} seconds" in error["message"]
        assert page.status_code == 429 and "Too many new voters" in page.text
        # The voter who kept its cookie is not a new voter.
        for _ in range(3):
            _battle(known)
    finally:
        known.close()
    with voting_app.app_context(), get_db().session() as session:
        assert len(session.execute(select(Voter)).scalars().all()) == 3
