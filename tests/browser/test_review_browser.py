"""A curator's first day in Chromium: the admin index says how many songs wait, the review queue shows
why each label is what it is, one click confirms a label, a pick and a click changes another; the
history records both and the next playlist uses the new label."""

import re

import pytest
from playwright.sync_api import expect

from recommender.library import ingest_many
from recommender.models import LabelChange, Song, TypicalSong
from recommender.playlists import recommend
from tests.browser.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def item(n, emotion, confidence, tags):
    return {"source": "netease", "external_id": str(n), "title": f"Tune {n}", "artist": f"Band {n}",
            "tags": list(tags), "emotions": {emotion: confidence}, "url": f"https://music.163.com/song?id={n}"}


def test_a_curator_confirms_one_label_and_changes_another(live_server, page, django_user_model, make_curator):
    ingest_many([item(n, "happy", 1.0, ("cheerful", "pop")) for n in range(4)])
    # Catalogue labels a curator would look at: "rock without a soft mood tag" on every playlist (0.5),
    # "lonely" on half of them (0.8 x 0.75 = 0.6 is not below the threshold; 0.45 is: "touching").
    ingest_many([item(10, "angry", 0.5, ("rock", "nostalgic", "pop")), item(11, "sad", 0.45, ("touching", "pop"))])
    curator = make_curator("cora")
    listener = django_user_model.objects.create_user("lee", password=PASSWORD)
    TypicalSong.objects.create(user=listener, emotion="happy", song=Song.objects.get(external_id="0"))
    rock, ballad = (Song.objects.get(external_id=n) for n in ("10", "11"))
    assert rock.id not in {pick["id"] for pick in recommend(listener, "happy")}

    sign_in(page, live_server.url, "cora")
    panel = page.locator("#review-waiting")
    expect(panel).to_contain_text("2 songs wait for review")
    expect(panel.locator("tr", has_text="Angry")).to_contain_text("1")
    panel.get_by_role("link", name="2 songs wait for review").click()
    expect(page).to_have_url(re.compile(r"/admin/recommender/songreview/"))

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Tune 11")  # lowest confidence first
    expect(rows.nth(0)).to_contain_text("Sad 0.45 (catalogue)")
    expect(rows.nth(0)).to_contain_text("touching/moving")
    expect(rows.nth(1)).to_contain_text("rock without a soft/positive mood tag")
    expect(rows.nth(1)).to_contain_text("fired on 100% of its NetEase playlists")

    rows.nth(0).locator("button.review-confirm").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Confirmed “Tune 11 - Band 11”: Sad 1.00 (admin)")
    expect(rows).to_have_count(1)
    rows.nth(0).locator(f"select[name=review_emotion_{rock.id}]").select_option("happy")
    rows.nth(0).locator("button.review-relabel").click()
    expect(page.locator("ul.messagelist")).to_contain_text("relabelled as Happy")
    expect(page.locator("#result_list")).to_have_count(0)  # nothing left to review

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#review-waiting")).to_contain_text("0 songs wait for review")

    page.goto(f"{live_server.url}/admin/recommender/song/{rock.id}/change/")
    expect(page.locator("body")).to_contain_text("angry 0.50 (catalogue)")
    expect(page.locator("body")).to_contain_text("happy 1.00 (admin)")
    history = {c.song_id: (c.old, c.new, c.via) for c in LabelChange.objects.filter(changed_by=curator)}
    assert history == {ballad.id: ("sad 0.45 (catalogue)", "sad 1.00 (admin)", "confirm"),
                       rock.id: ("angry 0.50 (catalogue)", "happy 1.00 (admin)", "review")}
    # The next playlist for "happy" has the relabelled song (the server's index was invalidated on commit).
    assert rock.id in {pick["id"] for pick in recommend(listener, "happy")}
    assert not page.mien_errors, page.mien_errors
