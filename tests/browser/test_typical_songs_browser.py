"""A person in Chromium picks three typical songs for the mood Mien read, and the next playlist follows.

The newcomer's first playlist is ranked against the library's own profile, so its twenty songs share
the same few tags; picking three of them would change nothing. The person goes to "My music", finds
songs of that mood carrying a style the first playlist never gave as a reason, marks three as typical,
snaps again, and every reason on the new playlist comes from the songs they picked.
"""

import re

import pytest
from playwright.sync_api import expect

from recommender.models import Tag
from recommender.playlists import get_index
from tests.browser.test_snapshot import RESULT_TIMEOUT_MS, expect_playlist, load_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOP = 5  # the songs whose reasons are checked on the second playlist


def sign_up(page, base_url, username):
    page.goto(f"{base_url}/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.locator("#id_password1").fill("a-long-test-password")
    page.locator("#id_password2").fill("a-long-test-password")
    page.locator("form.stacked-form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator(".nav-user")).to_contain_text(username)


def snap(page):
    """Snap with the fake camera; the playlist's ids and each song's reasons (its shared tags)."""
    button = page.locator("#snap")
    expect(button).to_be_enabled()  # the fake camera is streaming
    button.click()
    songs = expect_playlist(page)
    expect(page.locator("#spinner")).to_be_hidden()
    ids = [int(i) for i in songs.evaluate_all("items => items.map(li => li.dataset.songId)")]
    reasons = songs.evaluate_all(
        "items => items.map(li => [...li.querySelectorAll('.tags li.tag-shared')].map(t => t.textContent.trim()))")
    return ids, reasons


def unused_genre(emotion, shown_reasons):
    """A genre tag at least four songs of the mood's library carry that no song of the first playlist
    gave as a reason (so the library's own profile does not hold it): (slug, name on the page)."""
    index = get_index()
    counts = {}
    for song_id in index.songs_for(emotion):
        for slug in index.tags.get(song_id, ()):
            counts[slug] = counts.get(slug, 0) + 1
    names = dict(Tag.objects.filter(kind=Tag.Kind.GENRE, name__in=counts).values_list("name", "name_en"))
    candidates = [(counts[slug], slug, name or slug) for slug, name in names.items()
                  if counts[slug] >= 4 and (name or slug) not in shown_reasons]
    assert candidates, f"no unused genre in the {emotion} library"
    _count, slug, name = max(candidates)
    return slug, name


def test_typical_songs_from_the_library_steer_the_next_playlist(live_server, page):
    load_catalogue()
    sign_up(page, live_server.url, "grace")

    # 1. The first snap: a newcomer's playlist, ranked against the library's own typical songs.
    first_ids, first_reasons = snap(page)
    emotion = page.locator("#result").get_attribute("data-emotion")
    assert emotion, "the result names the emotion its playlist follows"
    # A sure face is matched to its own library; a blend would mix other moods' profiles in.
    expect(page.locator("#strategy-note")).to_have_attribute("data-strategy", "match")
    shown = {tag for reasons in first_reasons for tag in reasons}
    assert shown, "every song says why it was picked"
    slug, genre = unused_genre(emotion, shown)

    # 2. From the playlist to "My music", with the mood already chosen.
    page.locator("#choose-typical").click()
    expect(page).to_have_url(re.compile(rf"/me/music/\?emotion={emotion}$"))
    expect(page.locator("#typical-search-emotion")).to_have_value(emotion)
    expect(page.locator("#typical-search-query")).to_be_focused()
    group = page.locator(f'.typical-group[data-emotion="{emotion}"]')
    expect(group.locator(".count")).to_have_text("0/3")

    page.locator("#typical-search-query").fill(genre)
    page.get_by_role("button", name="Find songs").click()
    results = page.locator("#typical-search-results li.search-result")
    expect(results.first).to_be_visible()
    expect(page.locator("#typical-search-status")).to_contain_text("songs for")
    exact = re.compile(rf"^\s*{re.escape(genre)}\s*$")
    carrying = results.filter(has=page.locator(".tags li.tag", has_text=exact))
    assert carrying.count() >= 4, f"the search for {genre!r} finds at least four songs carrying it"

    picked_titles, picked_tags, picked_ids = [], set(), set()
    for i in range(3):
        row = carrying.nth(i)
        add = row.locator("button.add-typical")
        expect(add).to_have_attribute("aria-pressed", "false")
        add.click()
        expect(add).to_have_attribute("aria-pressed", "true")
        picked_titles.append(row.locator(".song-title").inner_text().strip())
        picked_tags.update(t.strip() for t in row.locator(".tags li.tag").all_inner_texts())
        picked_ids.add(int(row.get_attribute("data-song-id")))
        expect(group.locator("li.saved-song")).to_have_count(i + 1)
    expect(group.locator(".count")).to_have_text("3/3")
    expect(page.locator(f"#typical-empty-{emotion}")).to_be_hidden()
    assert genre in picked_tags

    # The paper's rule: three per mood. A fourth is refused in words, and nothing changes.
    fourth = carrying.nth(3)
    fourth.locator("button.add-typical").click()
    expect(fourth.locator(".song-note")).to_contain_text("three typical songs")
    expect(fourth.locator("button.add-typical")).to_have_attribute("aria-pressed", "false")
    expect(group.locator("li.saved-song")).to_have_count(3)

    # 3. The picks are on "My music" for good (rendered by the server after a reload).
    page.reload()
    expect(group.locator(".count")).to_have_text("3/3")
    expect(group.locator("li.saved-song")).to_have_count(3)
    for title in picked_titles:
        expect(group).to_contain_text(title)
    assert not page.mien_errors, page.mien_errors

    # 4. The next snap ranks against the picks.
    page.locator(".site-nav").get_by_role("link", name="Snap", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")
    second_ids, second_reasons = snap(page)
    assert page.locator("#result").get_attribute("data-emotion") == emotion
    assert second_ids != first_ids
    assert not picked_ids & set(second_ids), "typical songs are not played back"
    for position, reasons in enumerate(second_reasons[:TOP], 1):
        assert reasons, f"song {position} says why"
        assert set(reasons) <= picked_tags, (position, reasons, picked_tags)
    # The reasons moved to the picks' style, which the library's own profile did not hold.
    assert genre in second_reasons[0], second_reasons[:TOP]
    assert sum(genre in reasons for reasons in second_reasons[:TOP]) >= 3, second_reasons[:TOP]
    assert not page.mien_errors, page.mien_errors
    expect(page.locator("#error")).to_be_hidden(timeout=RESULT_TIMEOUT_MS)
