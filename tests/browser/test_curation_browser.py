"""A curator in Chromium: signs in to the admin, filters low-confidence songs, relabels two in bulk,
and the next playlist for that emotion has them; a non-staff person is sent to the login page."""

import re

import pytest
from playwright.sync_api import expect

from recommender.library import ingest_many
from recommender.models import LabelChange, Song, TypicalSong
from recommender.playlists import recommend
from tests.browser.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def item(n, emotion, confidence, tags):
    return {"source": "jamendo", "external_id": str(n), "title": f"Tune {n}", "artist": f"Band {n}",
            "tags": list(tags), "emotions": {emotion: confidence}, "url": f"https://example.com/{n}"}


def test_a_curator_relabels_two_low_confidence_songs_and_the_playlist_follows(live_server, page,
                                                                              django_user_model, make_curator):
    ingest_many([item(n, "happy", 0.9, ("pop", "dance")) for n in range(4)], label_source="model")
    ingest_many([item(n, "angry", c, ("rock", "dance")) for n, c in ((10, 0.15), (11, 0.25), (12, 0.8))],
                label_source="model")
    curator = make_curator("cora")
    listener = django_user_model.objects.create_user("lee", password=PASSWORD)
    TypicalSong.objects.create(user=listener, emotion="happy", song=Song.objects.get(external_id="0"))
    low = list(Song.objects.filter(external_id__in=["10", "11"]).values_list("id", flat=True))
    assert not set(low) & {pick["id"] for pick in recommend(listener, "happy")}

    sign_in(page, live_server.url, "cora")
    expect(page.locator("#site-name")).to_contain_text("Mien curation")
    page.goto(f"{live_server.url}/admin/recommender/song/")
    page.locator("#changelist-filter").get_by_role("link", name=re.compile(r"^low")).click()
    expect(page).to_have_url(re.compile(r"confidence=low"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text("Tune 12")
    for song_id in low:
        page.locator(f"input.action-select[value='{song_id}']").check()
    page.locator("select[name=action]").select_option("set_emotion")
    page.locator("select[name=emotion]").select_option("happy")
    page.locator("button[name=index]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("2 song(s) relabelled as Happy")

    # History on the song's page.
    page.goto(f"{live_server.url}/admin/recommender/song/{low[0]}/change/")
    expect(page.locator("body")).to_contain_text("happy 1.00 (admin)")
    assert LabelChange.objects.filter(song_id__in=low, changed_by=curator).count() == 2

    # The next playlist for "happy" has them (the server's index was invalidated on commit).
    assert set(low) <= {pick["id"] for pick in recommend(listener, "happy")}
    assert not page.mien_errors, page.mien_errors


def test_a_non_staff_person_is_sent_to_the_login_page(live_server, page, django_user_model):
    django_user_model.objects.create_user("lee", password=PASSWORD)
    sign_in(page, live_server.url, "lee")
    expect(page.locator(".errornote")).to_be_visible()
    page.goto(f"{live_server.url}/admin/recommender/song/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
