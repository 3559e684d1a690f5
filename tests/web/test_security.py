"""Request-level defences: security headers, CSRF on forms, voting rate limits, escaping."""

from __future__ import annotations

import os
import re

import pytest
import redis
from flask import Flask

from arena import create_app
from arena.web.security import CONTENT_SECURITY_POLICY

COMPETITION = "fantasy-warrior-ii"
REDIS_URL = "redis://127.0.0.1:6379/15"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    "path", ["/", "/arena", "/leaderboard", "/models", "/api/v1/votes", "/no-such-page"]
)
def test_security_headers_on_pages_api_and_errors(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts_or_styles(voting_app):
    client = voting_app.test_client()
    for path in ("/", f"/arena/{COMPETITION}", "/leaderboard", "/models", "/competitions"):
        html = client.get(path).get_data(as_text=True)
        assert "style=" not in html, path
        for script in re.findall(r"<script[^>]*>", html):
            assert "src=" in script, (path, script)
        assert not re.search(r"\son[a-z]+=", html), path
        assert "hx-on" not in html, path


def test_session_cookie_is_httponly_and_samesite(voting_app):
    response = voting_app.test_client().get(f"/arena/{COMPETITION}")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_session_cookie_is_secure_when_configured(voting_app):
    voting_app.config["SESSION_COOKIE_SECURE"] = True
    response = voting_app.test_client().get(f"/arena/{COMPETITION}")
    assert "Secure" in response.headers["Set-Cookie"]


def test_vote_form_without_csrf_token_is_refused(voting_app):
    client = voting_app.test_client()
    html = client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    refused = client.post("/arena/vote", data={"token": _token(html), "winner": "left"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "CSRF token is missing" in page and "Reload the page" in page
    forged = client.post(
        "/arena/vote", data={"token": _token(html), "winner": "left", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    accepted = client.post(
        "/arena/vote", data={"token": _token(html), "winner": "left", "csrf_token": _csrf(html)}
    )
    assert accepted.status_code == 200


def test_csrf_token_from_another_session_is_refused(voting_app):
    mine, theirs = voting_app.test_client(), voting_app.test_client()
    html = mine.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    their_token = _csrf(theirs.get(f"/arena/{COMPETITION}").get_data(as_text=True))
    response = mine.post(
        "/arena/vote", data={"token": _token(html), "winner": "left", "csrf_token": their_token}
    )
    assert response.status_code == 400


def test_json_api_refuses_form_encoded_posts(voting_app):
    client = voting_app.test_client()
    response = client.post("/api/v1/battles", data={"competition": COMPETITION})
    assert response.status_code == 415
    assert response.json["error"]["field"] == "Content-Type"
    plain = client.post("/api/v1/battles", data="{}", content_type="text/plain")
    assert plain.status_code == 415
    assert client.post("/api/v1/battles").status_code == 201  # no body at all is fine


def _known_voter(app: Flask):
    """A client that already holds its voter cookie (its first, cookieless request counts
    against its address only)."""
    client = app.test_client()
    assert client.post("/api/v1/battles", json={}).status_code == 201
    return client


def test_voter_hammering_battles_gets_429_at_the_limit(voting_app):
    voting_app.config["RATE_LIMIT"] = "5/minute"
    client = _known_voter(voting_app)
    statuses = [client.post("/api/v1/battles", json={}).status_code for _ in range(5)]
    assert statuses == [201] * 5
    refused = client.post("/api/v1/battles", json={})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["code"] == "too_many_requests"
    assert "5/minute per voter" in refused.json["error"]["message"]
    # The page that issues battles shares the same budget.
    page = client.get(f"/arena/{COMPETITION}")
    assert page.status_code == 429
    assert "Retry-After" in page.headers


def test_votes_have_their_own_budget(voting_app):
    voting_app.config["RATE_LIMIT"] = "3/minute"
    client = _known_voter(voting_app)
    tokens = [client.post("/api/v1/battles", json={}).json["token"] for _ in range(3)]
    for token in tokens:
        assert client.post(f"/api/v1/battles/{token}/vote", json={"winner": "tie"}).status_code
    fourth_battle = client.post("/api/v1/battles", json={})
    assert fourth_battle.status_code == 429
    assert client.post(f"/api/v1/battles/{tokens[0]}/vote", json={"winner": "tie"}).status_code
    refused = client.post(f"/api/v1/battles/{tokens[0]}/vote", json={"winner": "tie"})
    assert refused.status_code == 429


def test_voters_are_limited_separately_but_their_address_is_capped(voting_app):
    voting_app.config["RATE_LIMIT"] = "2/minute"
    voting_app.config["IP_RATE_LIMIT"] = "7/minute"
    alice, bob = _known_voter(voting_app), _known_voter(voting_app)  # 2 from the address
    assert [alice.post("/api/v1/battles", json={}).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]
    assert [bob.post("/api/v1/battles", json={}).status_code for _ in range(2)] == [201, 201]
    # Six from the address so far (Alice's refused request counted too): a newcomer gets one
    # more, then the address is capped whoever asks.
    carol = voting_app.test_client()
    assert carol.post("/api/v1/battles", json={}).status_code == 201
    refused = carol.post("/api/v1/battles", json={})
    assert refused.status_code == 429
    assert "from your address" in refused.json["error"]["message"]


def test_scripts_without_cookies_meet_the_address_limit_and_cannot_vote(voting_app):
    voting_app.config["RATE_LIMIT"] = "2/minute"
    voting_app.config["IP_RATE_LIMIT"] = "3/minute"
    script = voting_app.test_client(use_cookies=False)
    responses = [script.post("/api/v1/battles", json={}) for _ in range(4)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    vote = script.post(f"/api/v1/battles/{responses[0].json['token']}/vote", json={"winner": "tie"})
    assert vote.status_code == 403


def test_rate_limit_off_disables_it(voting_app):
    voting_app.config["RATE_LIMIT"] = "off"
    voting_app.config["IP_RATE_LIMIT"] = "off"
    client = voting_app.test_client()
    assert {client.post("/api/v1/battles", json={}).status_code for _ in range(30)} == {201}


def _redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False
    return True


@pytest.mark.xdist_group("redis-database-15")  # one xdist worker: they flush it
def test_rate_limits_are_shared_through_redis(voting_app):
    if not _redis_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not answering at {REDIS_URL}")
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    store = redis.Redis.from_url(REDIS_URL)  # database 15 belongs to the tests
    store.flushdb()
    config = {
        key: voting_app.config[key]
        for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "MEDIA_DIR", "PROVIDER_CREDENTIALS")
    }
    config |= {"REDIS_URL": REDIS_URL, "RATE_LIMIT": "off", "IP_RATE_LIMIT": "4/minute"}
    workers = [create_app(config)]
    try:
        first = workers[0].test_client()
        assert [first.post("/api/v1/battles", json={}).status_code for _ in range(4)] == [201] * 4
        # Another worker starts (a new app, a new storage connection; with in-memory storage
        # it would start from zero) and sees the same counts.
        workers.append(create_app(config))
        assert workers[1].test_client().post("/api/v1/battles", json={}).status_code == 429
        assert store.keys("LIMITS:*")
    finally:
        store.flushdb()
        for worker in workers:
            worker.extensions["arena.db"].engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/models?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/arena/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/leaderboard/category/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "/models/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
)
def test_reflected_input_is_escaped(voting_app, path):
    response = voting_app.test_client().get(path)
    html = response.get_data(as_text=True)
    assert response.status_code < 500
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
