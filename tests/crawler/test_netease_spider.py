"""The netease spider against recorded-shape answers on 127.0.0.1 (no database)."""

from tests.crawler.fakesite import Reply
from tests.crawler.recorded import (
    NETEASE_BLOCK_PAGE,
    NETEASE_NO_LYRIC,
    netease_lyric,
    netease_playlist,
    netease_playlist_detail,
    netease_playlist_list,
    netease_song,
    netease_song_detail,
    serve_netease,
)

LRC = "[00:00.000] 作词 : 林夕\n[00:01.000] 作曲 : 陈小霞\n[00:12.34]谁都只得那双手\n[00:15.67][01:20.00]靠拥抱亦难任你拥有\n"


def serve_two_categories(site):
    """快乐: two pages of one playlist each; 伤感: one playlist. Song 11 is on a happy and a sad list."""
    serve_netease(site, {"快乐": [(101, "开心就好", ["华语", "流行", "快乐"], [11, 12]),
                                  (102, "阳光午后", ["欧美", "快乐"], [13])],
                         "伤感": [(201, "一个人听", ["华语", "伤感", "孤独"], [11, 21])]},
                  [(11, "富士山下", ["陈奕迅"], 259000, 100.0), (12, "小幸运", ["田馥甄"], 265000, 90.0),
                   (13, "Happy", ["Pharrell Williams"], 233000, 85.4),
                   (21, "后来", ["刘若英", "Other Singer"], 341000, 70.0)],
                  LRC, one_page_each=True)
    site.route("/api/song/lyric", Reply(json=NETEASE_NO_LYRIC), id=13)
    site.route("/api/song/lyric", Reply(status=404, json={"code": 404}), id=21)


def test_it_reads_playlists_songs_and_lyrics(crawl, site):
    serve_two_categories(site)

    result = crawl("netease", categories="快乐,伤感")

    songs = result.by_id()
    assert sorted(songs) == ["11", "12", "13", "21"]
    assert result.reason == "finished"
    fuji = songs["11"]
    assert (fuji["title"], fuji["artist"], fuji["duration"], fuji["popularity"]) == ("富士山下", "陈奕迅", 259.0, 100)
    assert fuji["url"] == "https://music.163.com/song?id=11"
    assert "outchain/player?type=2&id=11" in fuji["embed_url"]
    # its tags are the union of its two playlists' tags, its emotions the catalogue rules over both
    assert fuji["tags"] == ["cheerful", "chinese", "lonely", "pop", "sad"]
    assert fuji["emotions"] == {"happy": 0.75, "sad": 0.75} and fuji["label_source"] == "catalogue"
    assert songs["12"]["emotions"] == {"happy": 1.0}
    assert fuji["lyrics"] == "谁都只得那双手\n靠拥抱亦难任你拥有"
    assert songs["13"].get("instrumental") is True and not songs["13"].get("lyrics")
    assert songs["21"]["artist"] == "刘若英 / Other Singer" and not songs["21"].get("lyrics")  # lyrics 404: kept
    # pagination: the second page of 快乐 was read, and every song's detail came in one batch
    assert [p["offset"] for p in site.hits_on("/api/playlist/list") if p["cat"] == "快乐"] == ["0", "1"]
    assert len(site.hits_on("/api/song/detail/")) == 1
    assert result.stat("mien/netease/playlists") == 3


def test_it_drops_what_it_cannot_read_and_goes_on(crawl, site):
    site.route("/api/playlist/list", Reply(body=""), cat="伤感")  # an empty answer (HTML would be a block)
    site.route("/api/playlist/list", Reply(json=netease_playlist_list("快乐", [
        netease_playlist(101, "a", ["快乐"]), netease_playlist(102, "b", ["快乐"]), {"name": "no id"}])), cat="快乐")
    site.route("/api/v6/playlist/detail", Reply(body='{"code": 200, "playlist": {"trackIds": [{"id": 1'), id=101)
    site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(102, "b", ["快乐"], [1, 2, 3, 4])),
               id=102)
    nameless = netease_song(2, "x", ["Someone"])
    del nameless["name"]
    artistless = netease_song(3, "No Artist", [])
    site.route("/api/song/detail/", Reply(json=netease_song_detail([netease_song(1, "Fine", ["Singer"]), nameless,
                                                                    artistless])))  # 4 is missing
    site.route("/api/song/lyric", Reply(body="{not json"))

    result = crawl("netease", categories="快乐,伤感")

    assert list(result.by_id()) == ["1"]
    assert result.by_id()["1"].get("lyrics") is None  # unreadable lyrics: the song is kept without
    assert result.stat("mien/bad_response/empty") == 1
    assert result.stat("mien/bad_response/malformed_json") == 1
    assert result.stat("mien/bad_response/missing_field") == 1
    assert result.stat("mien/dropped/missing_title") == 1
    assert result.stat("mien/dropped/missing_artist") == 1
    assert result.stat("mien/dropped/not_in_song_detail") == 1
    assert result.stat("mien/dropped") == 3
    assert result.stat("mien/lyrics/malformed_json") == 1  # not asked for the songs without title or artist


def test_it_retries_a_500_and_a_429_then_succeeds(crawl, site):
    site.route("/api/playlist/list", Reply(status=500, body="Internal Server Error"),
               Reply(status=429, json={"code": 429}, headers={"Retry-After": "0"}),
               Reply(json=netease_playlist_list("快乐", [netease_playlist(101, "a", ["快乐"])])), cat="快乐")
    site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(101, "a", ["快乐"], [1])), id=101)
    site.route("/api/song/detail/", Reply(status=503), Reply(json=netease_song_detail([netease_song(1, "A", ["B"])])))
    site.route("/api/song/lyric", Reply(json=netease_lyric("[00:01.00]la la")))

    result = crawl("netease", categories="快乐")

    assert list(result.by_id()) == ["1"]
    assert len(site.hits_on("/api/playlist/list")) == 3
    assert len(site.hits_on("/api/song/detail/")) == 2
    assert result.stat("retry/count") == 3
    assert result.stat("retry/backoff/429") == 1
    assert result.stat("log_count/ERROR") == 0


def test_a_song_detail_that_keeps_failing_or_timing_out_drops_its_songs(crawl, site):
    site.route("/api/playlist/list", Reply(json=netease_playlist_list("快乐", [
        netease_playlist(101, "a", ["快乐"]), netease_playlist(102, "b", ["快乐"])])), cat="快乐")
    site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(101, "a", ["快乐"], [1, 2])), id=101)
    site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(102, "b", ["快乐"], [3])), id=102)
    for song_id in (1, 2):  # time out
        site.route("/api/song/detail/", Reply(delay=1.5, json=netease_song_detail([])), id=song_id)
    site.route("/api/song/detail/", Reply(status=500), id=3)  # fails every time
    site.route("/api/song/lyric", Reply(json=netease_lyric("")))

    result = crawl("netease", categories="快乐",
                   settings={"DOWNLOAD_TIMEOUT": 0.5, "RETRY_TIMES": 1, "NETEASE_SONG_DETAIL_BATCH": 1})

    assert result.items == []
    assert result.stat("mien/dropped/song_detail_timeout") == 2
    assert result.stat("mien/dropped/song_detail_http_500") == 1
    assert len(site.hits_on("/api/song/detail/")) == 6  # each batch tried twice
    assert result.reason == "finished"


def test_it_obeys_robots_txt(crawl, site):
    site.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /api/\n", content_type="text/plain"))

    result = crawl("netease", categories="快乐")

    assert result.items == []
    assert site.hits_on("/api/playlist/list") == []
    assert result.stat("robotstxt/forbidden") == 1
    assert result.stat("mien/bad_response/forbidden_by_robots") == 1


def test_max_items_stops_collecting_songs(crawl, site):
    site.route("/api/playlist/list", Reply(json=netease_playlist_list("快乐", [
        netease_playlist(100 + n, str(n), ["快乐"], track_count=2) for n in range(5)], more=True)), cat="快乐")
    for n in range(5):
        site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(
            100 + n, str(n), ["快乐"], [10 * n + 1, 10 * n + 2])), id=100 + n)
    site.route("/api/song/detail/", Reply(json=netease_song_detail(
        [netease_song(sid, f"song {sid}", ["Singer"]) for sid in range(1, 50)])))

    result = crawl("netease", categories="快乐",
                   settings={"CLOSESPIDER_ITEMCOUNT": 3, "NETEASE_FETCH_LYRICS": False, "CONCURRENT_REQUESTS": 1})

    assert len(result.items) == 3
    assert len(site.hits_on("/api/playlist/list")) == 1  # no second page: two playlists hold enough tracks
    assert len(site.hits_on("/api/v6/playlist/detail")) == 2
    assert result.reason == "closespider_itemcount"


def test_it_reads_the_newer_song_shape_and_pure_music(crawl, site):
    from tests.crawler.recorded import NETEASE_PURE_MUSIC, netease_song_v3

    site.route("/api/playlist/list", Reply(json=netease_playlist_list("轻音乐", [
        netease_playlist(301, "钢琴", ["轻音乐", "钢琴", "安静"])])), cat="轻音乐")
    site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(
        301, "钢琴", ["轻音乐", "钢琴", "安静"], [31, 32])), id=301)
    site.route("/api/song/detail/", Reply(json=netease_song_detail([
        netease_song_v3(31, "River Flows in You", ["Yiruma"], 187000, 100.0, album="First Love"),
        netease_song_v3(32, "晴天", ["周杰伦"], 269000, 95.0, album="叶惠美")])))
    site.route("/api/song/lyric", Reply(json=NETEASE_PURE_MUSIC), id=31)
    site.route("/api/song/lyric", Reply(json=netease_lyric("[00:29.10]故事的小黄花")), id=32)

    result = crawl("netease", categories="轻音乐")

    songs = result.by_id()
    river = songs["31"]
    assert (river["title"], river["artist"], river["album"], river["duration"], river["popularity"]) == (
        "River Flows in You", "Yiruma", "First Love", 187.0, 100)
    assert river["instrumental"] is True and not river.get("lyrics")  # "纯音乐，请欣赏" is not a lyric
    assert songs["32"]["album"] == "叶惠美" and songs["32"]["lyrics"] == "故事的小黄花"
    # each song came first on its own, its lyrics after
    first = [item for item in result.items if item["external_id"] == "32"][0]
    assert first["title"] == "晴天" and "lyrics" not in first and first["tags"]


def test_it_keeps_its_own_pace_one_request_at_a_time_without_autothrottle(crawl, site):
    serve_two_categories(site)

    result = crawl("netease", categories="快乐,伤感", settings={"DOWNLOAD_DELAY": 0.3, "CONCURRENT_REQUESTS": 8})

    settings = result.crawler.settings
    assert not settings.getbool("AUTOTHROTTLE_ENABLED")  # the project turns it on; this spider off
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 8  # (the test's); the spider's own is 1:
    from crawler.spiders.netease import NeteaseSpider

    assert NeteaseSpider.custom_settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    times = sorted(r["time"] for r in site.requests if r["path"] != "/robots.txt")
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) >= 8 and min(gaps) >= 0.3 * 0.95  # never faster than the delay, no jitter below it
    # the project's own User-Agent; no cookies, no borrowed browser headers
    for request in site.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["user-agent"].startswith("MienBot/1.0 (")
        assert "cookie" not in headers and "x-real-ip" not in headers and "origin" not in headers


def test_its_delay_is_never_below_three_seconds():
    from scrapy.settings import Settings

    from crawler.spiders.netease import NeteaseSpider

    for configured, expected in ((1.0, 3.0), (3.0, 3.0), (5.5, 5.5)):
        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.set("NETEASE_DOWNLOAD_DELAY", configured)
        NeteaseSpider.update_settings(settings)
        assert settings.getfloat("DOWNLOAD_DELAY") == expected
        assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
        assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1


def test_it_refuses_a_live_site_without_an_operator_contact(crawl, site):
    for spider, setting, url in (("netease", "NETEASE_API_URL", "https://music.163.com"),
                                 ("jamendo", "JAMENDO_API_URL", "https://api.jamendo.com/v3.0")):
        result = crawl(spider, settings={setting: url, "CRAWLER_CONTACT": "", "JAMENDO_CLIENT_ID": "k"})

        assert result.items == [] and result.stat("downloader/request_count") == 0
        assert "CRAWLER_CONTACT is not set" in result.crawler.spider.disabled_reason
    # on 127.0.0.1 (these tests) no contact is needed, and with one a live site is fine to ask
    from crawler.spiders.base import is_local

    assert is_local(site.url) and is_local("http://localhost:8000") and not is_local("https://lrclib.net")
