"""The catalog and a model page in Chromium: live search narrows the list, pages fit a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
HIDREAM = "hidream-i1-fast"


def test_catalog_search_narrows_the_list_then_opens_a_model_page(seeded, live_server, page):
    page.goto(f"{live_server}/models")
    rows = page.locator("#model-results tbody tr")
    expect(rows).to_have_count(27)

    page.get_by_role("searchbox", name="Search").press_sequentially("hidream", delay=20)
    expect(rows).to_have_count(3)  # swapped in by htmx, no page load
    expect(page).to_have_url(re.compile(r"/models\?q=hidream"))
    page.get_by_label("Creator").select_option("HiDream AI")
    page.get_by_label("Tag").select_option("open-weights")
    expect(rows).to_have_count(2)
    page.get_by_label("Tag").select_option("")

    page.get_by_role("link", name="HiDream I1 Fast", exact=True).click()
    page.wait_for_url(f"**/models/{HIDREAM}")
    assert page.locator("h1").inner_text().startswith("HiDream I1 Fast")
    assert f"{live_server}/openai/v1" in page.locator("#code pre").first.inner_text()
    first = page.locator("#gallery img").first
    first.scroll_into_view_if_needed()
    expect(first).to_have_js_property("complete", True)
    assert first.evaluate("img => img.naturalWidth") == 512  # rendered by the builtin stand-in


def test_model_page_fits_a_phone(seeded, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        for path in (f"/models/{HIDREAM}", "/models"):
            phone.goto(live_server + path)
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, path
    finally:
        context.close()
