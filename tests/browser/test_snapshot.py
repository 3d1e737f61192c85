"""A person in Chromium: sign up, snap a selfie (or upload one), get a playlist, save a song."""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recognition runs in the request when no broker is configured, and the first one loads the model.
RESULT_TIMEOUT_MS = 120_000
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


def load_catalogue():
    call_command("import_catalogue", stdout=io.StringIO())  # idempotent


def expect_playlist(page):
    """The result is on the page: an emotion, seven bars and at least ten playable songs."""
    expect(page.locator("#result-body")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#spinner")).to_be_hidden()
    expect(page.locator("#emotion")).not_to_have_text("")
    assert page.locator(".bar").count() == 7
    widths = page.locator(".bar").evaluate_all("bars => bars.map(b => parseFloat(b.style.width) || 0)")
    assert 99 <= sum(widths) <= 101, widths  # the probabilities sum to one

    songs = page.locator("#playlist li.song")
    expect(songs.nth(9)).to_be_visible()
    assert songs.count() >= 10
    for i in range(songs.count()):
        song = songs.nth(i)
        assert song.get_attribute("data-song-id").isdigit()
        assert song.locator(".song-title").inner_text().strip()
        assert song.locator(".song-artist").inner_text().strip()
        assert re.match(r"https?://", song.locator("a.listen").get_attribute("href") or "")
    assert not page.locator("#playlist iframe").count(), "players load only when asked"
    return songs


def test_it_signs_up_snaps_and_saves_a_song(live_server, page):
    load_catalogue()
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Username").fill("ada")
    page.locator("#id_password1").fill("a-long-test-password")
    page.locator("#id_password2").fill("a-long-test-password")
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".nav-user")).to_contain_text("ada")

    snap = page.locator("#snap")
    expect(snap).to_be_enabled()  # the fake camera is streaming
    expect(page.locator("#camera-message")).to_be_hidden()
    snap.click()
    songs = expect_playlist(page)
    assert page.locator("#emotion").inner_text().strip()

    first = songs.first
    title = first.locator(".song-title").inner_text().strip()
    first.locator("button.play").click()  # the player arrives on demand, one at a time
    expect(first.locator(".player iframe")).to_have_count(1)
    first.locator("button.play").click()
    expect(first.locator(".player iframe")).to_have_count(0)

    save = first.locator("button.save")
    save.click()
    expect(save).to_have_text("Saved")
    expect(save).to_have_attribute("aria-pressed", "true")
    typical = first.locator("button.typical")
    expect(typical).to_have_text(re.compile(r"^Typical for \w+$"))
    typical.click()
    expect(typical).to_have_attribute("aria-pressed", "true")

    if os.environ.get("MIEN_SCREENSHOT") == "1":
        page.set_viewport_size({"width": 1280, "height": 1200})
        page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert not page.mien_errors, page.mien_errors

    page.get_by_role("link", name="My music").click()
    expect(page).to_have_url(f"{live_server.url}/me/music/")
    expect(page.locator("#favourites")).to_contain_text(title)
    emotion = page.locator("#typical-heading ~ .typical-grid .typical-group:has(li.saved-song)")
    expect(emotion).to_have_count(1)
    expect(emotion).to_contain_text(title)

    # Removing it leaves the empty state, and it stays removed after a reload.
    page.locator("#favourites li.saved-song").first.locator("button.remove").click()
    expect(page.locator("#favourites-empty")).to_be_visible()
    page.reload()
    expect(page.locator("#favourites li.saved-song")).to_have_count(0)


def test_it_offers_upload_when_camera_is_refused(live_server, page_refusing_camera, face_photo, no_face_photo):
    load_catalogue()
    page = page_refusing_camera
    page.goto(f"{live_server.url}/")
    message = page.locator("#camera-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Camera permission was refused")
    expect(page.locator("#snap")).to_be_disabled()
    upload = page.locator("#upload")
    expect(upload).to_be_visible()
    expect(page.locator("#upload-box")).to_have_class(re.compile(r"\bhighlight\b"))

    # Refusals come back as sentences a person understands, from the server and from the task.
    upload.set_input_files({"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.4 not a photo"})
    expect(page.locator("#error")).to_contain_text("not a photo")
    upload.set_input_files({"name": "coffee.jpg", "mimeType": "image/jpeg", "buffer": no_face_photo})
    expect(page.locator("#error")).to_contain_text("No face", timeout=RESULT_TIMEOUT_MS)
    expect(page.locator("#result-body")).to_be_hidden()

    upload.set_input_files({"name": "astronaut.jpg", "mimeType": "image/jpeg", "buffer": face_photo})
    songs = expect_playlist(page)
    # Anonymous visitors are asked to sign in rather than offered buttons that cannot work.
    assert not page.locator("#playlist button.save").count()
    expect(songs.first.locator("a.signin")).to_have_text("Sign in to save songs")
    assert not page.mien_errors, page.mien_errors
