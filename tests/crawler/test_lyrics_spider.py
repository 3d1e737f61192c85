"""The lyrics spider: library songs without lyrics, looked up on a recorded-shape LRCLIB."""

import pytest

from tests.crawler.fakesite import Reply
from tests.crawler.recorded import lrclib_record

pytestmark = pytest.mark.django_db(transaction=True)  # the spider reads the library from a worker thread


@pytest.fixture
def library_songs(db):
    from recommender.models import Song

    rows = [("1", "富士山下", "陈奕迅", 259.0, 100), ("2", "Rain", "Beat Bazaar / Guest", 200.0, 90),
            ("3", "Nowhere", "Nobody", None, 80), ("4", "Sunrise", "Beat Bazaar", 180.0, 70),
            ("5", "Broken", "Band", 100.0, 60), ("6", "Has Words", "Poet", 100.0, 50)]
    for external_id, title, artist, duration, popularity in rows:
        Song.objects.create(source="netease", external_id=external_id, title=title, artist=artist,
                            duration=duration, popularity=popularity,
                            lyrics="already here" if external_id == "6" else "")


def test_it_matches_title_artist_and_duration(crawl, site, library_songs):
    site.route("/api/search", Reply(json=[
        lrclib_record(1, "富士山下", "陈奕迅", 300.0, "wrong version: too long"),
        lrclib_record(2, "富士山下", "陈奕迅", 260.0, None, "[00:12.34]谁都只得那双手\n[00:15.67]靠拥抱亦难任你拥有"),
        lrclib_record(3, "富士山下 (Live)", "陈奕迅", 259.0, "another song"),
    ]), track_name="富士山下")
    site.route("/api/search", Reply(status=500), Reply(json=[lrclib_record(4, "rain", "BEAT BAZAAR", 201.5, "drops")]),
               track_name="Rain")
    site.route("/api/search", Reply(json=[]), track_name="Nowhere")
    site.route("/api/search", Reply(json=[lrclib_record(5, "Sunrise", "Beat Bazaar", 180, None, None, True)]),
               track_name="Sunrise")
    site.route("/api/search", Reply(body="<html>502 Bad Gateway</html>"), track_name="Broken")

    result = crawl("lyrics")

    found = {item["external_id"]: item for item in result.items if item.get("lyrics")}
    assert sorted(found) == ["1", "2"]
    checked = sorted(item["external_id"] for item in result.items if item.get("lyrics_checked"))
    assert checked == ["3", "4"]  # no match, instrumental; "5" failed to load: tried again next run
    assert found["1"]["lyrics"] == "谁都只得那双手\n靠拥抱亦难任你拥有"
    assert (found["1"]["source"], found["1"]["title"], found["1"]["artist"]) == ("netease", "富士山下", "陈奕迅")
    assert found["2"]["lyrics"] == "drops"
    rain = next(p for p in site.hits_on("/api/search") if p["track_name"] == "Rain")
    assert rain["artist_name"] == "Beat Bazaar"  # the first of the song's artists
    assert {p["track_name"] for p in site.hits_on("/api/search")} == {"富士山下", "Rain", "Nowhere", "Sunrise",
                                                                         "Broken"}  # not "Has Words"
    assert result.stat("mien/lyrics/not_found") == 1
    assert result.stat("mien/lyrics/instrumental") == 1
    assert result.stat("mien/dropped/search_html_not_json") == 1
    assert result.stat("retry/count") == 1


def test_max_items_limits_the_songs_looked_up(crawl, site, library_songs):
    site.route("/api/search", Reply(json=[]))

    crawl("lyrics", settings={"CLOSESPIDER_ITEMCOUNT": 2})

    assert sorted(p["track_name"] for p in site.hits_on("/api/search")) == ["Rain", "富士山下"]  # most popular


def test_it_asks_lrclib_one_request_at_a_time(crawl, site, library_songs):
    site.route("/api/search", Reply(delay=0.3, json=[]))
    site.route("/api/get", Reply(delay=0.3, status=404, json={"code": 404, "name": "TrackNotFound"}))

    # The test settings allow 8 requests per site at once: the spider still sends them one by one.
    result = crawl("lyrics", settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 8, "CONCURRENT_REQUESTS": 8})

    assert len(site.hits_on("/api/search")) == 5 and site.max_in_flight == 1
    assert result.stat("mien/lyrics/not_found") == 5


def test_a_429_with_retry_after_makes_it_wait_that_long(crawl, site, library_songs):
    site.route("/api/search", Reply(status=429, json={"code": 429}, headers={"Retry-After": "1"}), Reply(json=[]))
    site.route("/api/get", Reply(status=404, json={"code": 404}))

    result = crawl("lyrics", settings={"RETRY_BACKOFF_MAX": 5, "LYRICS_SONGS_PER_RUN": 2})

    first, second = site.times_on("/api/search")[:2]
    assert second - first >= 1.0  # the retry waited as long as asked, and nothing else went meanwhile
    assert result.stat("retry/backoff/429") == 1


def test_a_retry_after_longer_than_the_backoff_limit_gives_the_song_up_instead(crawl, site, library_songs):
    site.route("/api/search", Reply(status=429, json={"code": 429}, headers={"Retry-After": "3600"}))

    result = crawl("lyrics", settings={"RETRY_BACKOFF_MAX": 0.5, "LYRICS_SONGS_PER_RUN": 2})

    assert result.stat("retry/retry_after_too_long") >= 1 and result.stat("mien/dropped/search_http_429") >= 1
    assert result.items == []  # not marked checked: asked again next run


def test_when_search_finds_nothing_close_it_asks_api_get_by_title_artist_and_duration(crawl, site, library_songs):
    site.route("/api/search", Reply(json=[lrclib_record(9, "富士山下", "陈奕迅", 400.0, "too long a version")]))
    site.route("/api/get", Reply(json=lrclib_record(10, "富士山下", "陈奕迅", 259.0, "谁都只得那双手")),
               track_name="富士山下", artist_name="陈奕迅", duration="259")
    site.route("/api/get", Reply(status=404, json={"code": 404, "name": "TrackNotFound"}))

    result = crawl("lyrics", settings={"LYRICS_SONGS_PER_RUN": 2})

    songs = result.by_id()
    assert songs["1"]["lyrics"] == "谁都只得那双手" and songs["1"]["lyrics_source"] == "lrclib"
    assert songs["2"].get("lyrics_checked") is True  # /api/get's 404: looked up, none found
    assert "album_name" not in site.hits_on("/api/get")[0]
    assert result.stat("mien/lyrics/get_fallback") == 2
