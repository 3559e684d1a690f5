"""Chromium decodes the padded battle-image variants (extended WebP with a padding chunk)."""

from __future__ import annotations

COMPETITION = "fantasy-warrior-ii"


def test_chromium_shows_both_padded_battle_images(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}")
    page.wait_for_selector('#battle[data-state="voting"]')
    page.wait_for_function(
        "() => [...document.querySelectorAll('#battle img')].every(i => i.complete)"
    )
    sizes = page.eval_on_selector_all(
        "#battle img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert sizes == [[96, 64], [96, 64]]  # decoded (a broken image has 0 x 0)
