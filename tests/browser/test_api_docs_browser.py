"""/api/docs in Chromium: every operation shown and styled, nothing fetched from another host, no script.
MIEN_SCREENSHOT=1 also saves docs/api-docs.png."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "api-docs.png"


def test_the_api_docs_render_every_operation_from_this_site_alone(live_server, page):
    from webapp.openapi import operations

    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs")

    expect(page.get_by_role("heading", level=1)).to_have_text("HTTP API")
    documented = operations()
    expect(page.locator("section.api-operation")).to_have_count(len(documented))
    for operation in documented:
        section = page.locator(f"section#{operation['id']}")
        expect(section.get_by_role("heading", level=3)).to_have_text(f"{operation['method']} {operation['path']}")
        for response in operation["responses"]:
            expect(section.locator("dt.api-status", has_text=response["status"])).to_have_count(1)
    # The page's own stylesheet applied (cards, method badges), not a bare HTML page.
    card = page.locator("section#createRecognition")
    assert card.evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "16px"
    badge = card.locator(".http-method").first
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    # The contents link to each section, and the link works.
    page.locator("nav.api-contents a[href='#searchLibrary']").click()
    expect(page).to_have_url(f"{live_server.url}/api/docs#searchLibrary")
    expect(page.locator("section#searchLibrary")).to_be_in_viewport()

    assert requested and all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
    assert page.locator("script").count() == 0
    assert not page.mien_errors, page.mien_errors

    if os.environ.get("MIEN_SCREENSHOT") == "1":
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.goto(f"{live_server.url}/api/docs")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
