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
