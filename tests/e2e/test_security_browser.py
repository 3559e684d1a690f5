"""The strict Content-Security-Policy holds in a real browser: no page trips it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e
COMPETITION = "fantasy-warrior-ii"


def test_pages_and_htmx_voting_raise_no_csp_violation(voting_app, live_server, page):
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in ("/", "/leaderboard", "/models", "/models/hidream-i1-fast", "/competitions"):
        response = page.goto(f"{live_server}{path}")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto(f"{live_server}/arena/{COMPETITION}")
    page.keyboard.press("ArrowLeft")  # htmx posts the form, with its CSRF token, and swaps
    page.wait_for_selector('#battle[data-state="revealed"]')
    page.keyboard.press("n")
    page.wait_for_selector('#battle[data-state="voting"]')
    assert [p for p in problems if "Content Security Policy" in p or "CSP" in p] == []
    assert problems == []


def test_a_rate_limited_vote_says_why_in_the_page(voting_app, live_server, page):
    voting_app.config["RATE_LIMIT"] = "1/minute"
    page.goto(f"{live_server}/arena/{COMPETITION}")  # a newcomer: only the address limit
    page.keyboard.press("ArrowLeft")  # vote 1 of 1 this minute
    page.wait_for_selector('#battle[data-state="revealed"]')
    page.keyboard.press("n")  # battle 1 of 1 with the voter cookie
    page.wait_for_selector('#battle[data-state="voting"]')
    page.keyboard.press("ArrowRight")  # vote 2: refused
    alert = page.wait_for_selector("#battle-problem[role=alert]")
    text = alert.inner_text()
    assert "Too many requests" in text and "Try again in" in text
    assert page.locator('#battle[data-state="voting"]').count() == 1  # nothing was swapped
