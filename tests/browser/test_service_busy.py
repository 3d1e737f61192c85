"""With Redis down, a snapshot in Chromium says the service is busy instead of failing with a 500."""

import pytest
from playwright.sync_api import expect

from tests.integration.workers import broker, free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_says_the_service_is_busy_when_the_broker_is_down(live_server, page_refusing_camera, face_photo):
    from recommender.models import Recognition

    page = page_refusing_camera
    with broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        page.goto(f"{live_server.url}/")
        page.locator("#upload").set_input_files({"name": "me.jpg", "mimeType": "image/jpeg", "buffer": face_photo})
        expect(page.locator("#error")).to_have_text("The service is busy right now: please try again in a moment.")
    expect(page.locator("#result-body")).to_be_hidden()
    assert list(Recognition.objects.values_list("status", flat=True)) == ["failed"]
    assert not page.mien_errors, page.mien_errors
