"""The jamendo spider against recorded-shape Jamendo API v3.0 answers on 127.0.0.1 (no database)."""

from tests.crawler.fakesite import Reply
from tests.crawler.recorded import JAMENDO_BAD_CLIENT, jamendo_track, jamendo_tracks

WITH_KEY = {"JAMENDO_CLIENT_ID": "test-client", "JAMENDO_PAGE_SIZE": 2}


def test_it_is_disabled_without_a_client_id_and_says_so(crawl, site, caplog):
    result = crawl("jamendo", settings={"JAMENDO_CLIENT_ID": ""})

    assert result.items == []
    assert site.hits == []
    assert "JAMENDO_CLIENT_ID is not set" in caplog.text
    assert result.crawler.spider.disabled_reason.startswith("the jamendo spider is disabled")


def test_it_reads_tracks_by_tag_with_musicinfo_across_pages(crawl, site):
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([
        jamendo_track(1532771, "Let Me Hear You", "Jekk", genres=["pop", "electronic"], instruments=["piano"],
                      vartags=["happy", "energetic", "summer vibes"]),
        jamendo_track(948, "Sunrise", "Beat Bazaar", genres=["ambient"], vartags=["calm"],
                      vocalinstrumental="instrumental"),
    ])), tags="happy", offset=0)
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([
        jamendo_track(950, "Rain", "Beat Bazaar", genres=["metal"], vartags=["sad"]),
    ])), tags="happy", offset=2)
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([
        jamendo_track(948, "Sunrise", "Beat Bazaar", genres=["ambient"], vartags=["calm"],
                      vocalinstrumental="instrumental"),  # the same track again: one item
    ])), tags="calm", offset=0)

    result = crawl("jamendo", settings=WITH_KEY, tags="happy,calm")

    tracks = result.by_id()
    assert sorted(tracks) == ["1532771", "948", "950"]
    hear = tracks["1532771"]
    assert (hear["title"], hear["artist"], hear["duration"]) == ("Let Me Hear You", "Jekk", 201.0)
    assert hear["url"] == "https://www.jamendo.com/track/1532771"
    assert hear["audio_url"].startswith("https://prod-1.storage.jamendo.com/?trackid=1532771")
    assert hear["license_url"] == "http://creativecommons.org/licenses/by-nc-nd/3.0/" and hear["album"] == "Album"
    # genres/instruments/mood vartags -> the library's slugs; free-text vartags are left out
    assert hear["tags"] == ["cheerful", "electronic", "energetic", "keyboard", "pop"]
    assert hear["emotions"] == {"happy": 1.0, "neutral": 0.5}
    sunrise = tracks["948"]
    assert sunrise["tags"] == ["ambient", "calm", "instrumental"] and sunrise["instrumental"] is True
    assert sunrise["tag_info"] == {"ambient": {"en": "Ambient", "zh": "", "kind": "genre"}}
    assert tracks["950"]["emotions"] == {"angry": 1.0, "disgust": 0.6, "sad": 1.0}
    happy_pages = [p for p in site.hits_on("/v3.0/tracks/") if p["tags"] == "happy"]
    assert [p["offset"] for p in happy_pages] == ["0", "2"]
    assert {p["type"] for p in site.hits_on("/v3.0/tracks/")} == {"single albumtrack"}  # singles too
    assert happy_pages[0]["client_id"] == "test-client" and happy_pages[0]["include"] == "musicinfo licenses"


def test_an_api_error_stops_the_run_with_the_reason(crawl, site, caplog):
    site.route("/v3.0/tracks/", Reply(json=JAMENDO_BAD_CLIENT))

    result = crawl("jamendo", settings=WITH_KEY, tags="happy,sad")

    assert result.items == []
    assert result.reason == "jamendo_api_error"
    assert "Your credential is not authorized." in caplog.text


def test_malformed_answers_and_missing_fields_are_dropped(crawl, site):
    nameless = jamendo_track(2, "x", "Someone")
    del nameless["name"]
    idless = jamendo_track(3, "No Id", "Someone")
    del idless["id"]
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([jamendo_track(1, "Fine", "Artist"), nameless, idless])),
               tags="happy")
    site.route("/v3.0/tracks/", Reply(body='{"headers": {"status": "success"}, "results": [{"id": "4", '),
               tags="sad")
    site.route("/v3.0/tracks/", Reply(json={"unexpected": True}), tags="calm")

    result = crawl("jamendo", settings={"JAMENDO_CLIENT_ID": "test-client"}, tags="happy,sad,calm")

    assert list(result.by_id()) == ["1"]
    assert result.stat("mien/dropped/missing_title") == 1
    assert result.stat("mien/dropped/missing_id") == 1
    assert result.stat("mien/bad_response/malformed_json") == 1
    assert result.stat("mien/bad_response/missing_field") == 1
