"""NetEase's blocks stop the run, are recorded and shown, and hold the spider back; a cut run resumes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recommender import crawling
from recommender.models import CrawlRun, Song
from tests.crawler.conftest import WITH_DATABASE
from tests.crawler.fakesite import Reply
from tests.crawler.recorded import (
    NETEASE_BLOCK_PAGE,
    NETEASE_BUSY,
    NETEASE_CHEATING,
    NETEASE_TOO_CROWDED,
    NETEASE_TOO_FREQUENT,
    NETEASE_VERIFY,
    NETEASE_VERIFY_PAGE,
    netease_playlist_detail,
    serve_netease,
)

pytestmark = pytest.mark.django_db(transaction=True)

# As on the live site, one request at a time with a pause between them (there, NETEASE_DOWNLOAD_DELAY >= 3 s):
# the answer to one request is read before the next one is due.
ONE_AT_A_TIME = {**WITH_DATABASE, "CONCURRENT_REQUESTS": 1, "DOWNLOAD_DELAY": 0.4, "NETEASE_BLOCK_BACKOFF_HOURS": 48}

BLOCKS = {  # name -> (replies for the blocked request, words the recorded reason holds)
    "cheating_460": ([Reply(json=NETEASE_CHEATING)], "code -460"),
    "too_crowded_460": ([Reply(json=NETEASE_TOO_CROWDED)], "网络太拥挤"),
    "verify_462": ([Reply(json=NETEASE_VERIFY)], "code -462"),
    "busy_447": ([Reply(json=NETEASE_BUSY)], "code -447"),
    "too_frequent_405": ([Reply(json=NETEASE_TOO_FREQUENT)], "code 405"),
    "html_page": ([Reply(body=NETEASE_BLOCK_PAGE)], "HTML page"),
    "http_403": ([Reply(status=403, body=NETEASE_BLOCK_PAGE)], "HTTP 403"),
    "redirect": ([Reply(status=302, headers={"Location": "/verify?from=api"})], "redirected"),
}


def serve_songs(site, lyric=None):
    """Two categories; 快乐 holds songs 11 and 12, 伤感 song 21."""
    serve_netease(site, {"快乐": [(101, "开心", ["华语", "流行", "快乐"], [11, 12])],
                         "伤感": [(201, "雨天", ["华语", "伤感"], [21])]},
                  [(11, "小幸运", ["田馥甄"], 265000, 90.0), (12, "晴天", ["周杰伦"], 269000, 99.0),
                   (21, "后来", ["刘若英"], 341000, 70.0)],
                  lyric or "[00:01.00]原来你是我最想留住的幸运")
    site.route("/verify", Reply(body=NETEASE_VERIFY_PAGE))


@pytest.mark.parametrize("shape", sorted(BLOCKS))
def test_each_block_shape_stops_the_run_at_once_and_records_why(crawl, site, shape, admin_client):
    replies, words = BLOCKS[shape]
    site.route("/api/playlist/list", *replies, cat="伤感")  # routed first, so these answers win
    site.route("/api/playlist/list", *replies, cat="快乐")
    serve_songs(site)

    result = crawl("netease", settings=ONE_AT_A_TIME, categories="快乐,伤感")

    assert result.reason == "blocked"
    assert len(site.hits_on("/api/playlist/list")) == 1  # stopped at once: the other category never asked
    assert site.hits_on("/api/v6/playlist/detail") == [] and Song.objects.count() == 0
    run = CrawlRun.objects.get()
    assert run.status == CrawlRun.Status.FAILED and words in run.blocked_reason
    assert run.message.startswith("blocked by the site: ") and words in run.message
    assert timedelta(hours=47) < run.backoff_until - timezone.now() <= timedelta(hours=48)
    # the admin shows why, in the list and on the run's page
    listing = admin_client.get("/admin/recommender/crawlrun/").content.decode()
    assert "blocked: " in listing and words in listing and "backing off until" in listing
    page = admin_client.get(f"/admin/recommender/crawlrun/{run.pk}/change/").content.decode()
    assert words in page and "Blocked by the site" in page


def test_a_block_keeps_the_songs_already_whole_and_the_next_run_backs_off_then_resumes(crawl, site):
    from recommender.lyrics import classify

    classify("预热")  # load the lyrics classifier (tens of seconds here) before the timed crawls label lyrics
    serve_songs(site, lyric=[Reply(json=NETEASE_CHEATING)])  # the lyrics ask is the first one blocked

    first = crawl("netease", settings=ONE_AT_A_TIME, categories="快乐,伤感")

    # The songs came before their lyrics: each is in the library whole (tags, catalogue label), and
    # the first lyrics request, blocked, was the last request made.
    assert first.reason == "blocked"
    assert len(site.hits_on("/api/song/lyric")) == 1
    assert site.requests[-1]["path"] == "/api/song/lyric"
    assert sorted(Song.objects.values_list("external_id", flat=True)) == ["11", "12", "21"]
    for song in Song.objects.all():
        assert song.tags.exists() and song.labels.filter(source="catalogue").exists()
        assert song.lyrics_sha1 == "" and song.lyrics_checked_at is None  # lyrics still due, nothing faked
    blocked = CrawlRun.objects.get()
    assert sorted(blocked.progress["lyrics_due"]) == ["11", "12", "21"]

    # The next scheduled run is skipped while the back-off lasts, and says why.
    with pytest.raises(crawling.CrawlBackingOff, match="backing off until"):
        crawling.start_run("netease")
    assert crawling.crawl_all.run(spiders=["netease"]) == {"netease": "skipped"}
    skipped = CrawlRun.objects.filter(status=CrawlRun.Status.SKIPPED)
    assert skipped.count() == 2 and {r.finish_reason for r in skipped} == {"backing_off"}
    direct = crawl("netease", settings=ONE_AT_A_TIME, categories="快乐,伤感")  # `scrapy crawl` too
    assert direct.reason == "backing_off" and len(site.hits_on("/api/song/lyric")) == 1

    # Once the back-off has passed, the next run starts where the blocked one stopped: the lyrics.
    CrawlRun.objects.filter(pk=blocked.pk).update(backoff_until=timezone.now() - timedelta(minutes=1))
    site.reset()
    serve_songs(site)
    resumed = crawl("netease", settings=ONE_AT_A_TIME, categories="快乐,伤感")

    assert resumed.reason == "finished" and resumed.stat("mien/netease/resumed") == 1
    assert site.hits_on("/api/playlist/list") == [] and site.hits_on("/api/song/detail/") == []
    assert len(site.hits_on("/api/song/lyric")) == 3
    assert Song.objects.exclude(lyrics_sha1="").count() == 3
    last = CrawlRun.objects.order_by("-id").first()
    assert last.status == CrawlRun.Status.FINISHED and last.progress == {}


def test_a_run_cut_by_its_time_limit_resumes_where_it_stopped(crawl, site):
    # 伤感's playlist answers too late for this run's time limit: the run ends in the middle of phase 1.
    site.route("/api/v6/playlist/detail", Reply(delay=4.0, json=netease_playlist_detail(
        201, "雨天", ["华语", "伤感"], [21])), Reply(json=netease_playlist_detail(201, "雨天", ["华语", "伤感"], [21])),
        id=201)
    serve_songs(site)
    cut = crawl("netease", settings={**ONE_AT_A_TIME, "CLOSESPIDER_TIMEOUT": 2, "DOWNLOAD_TIMEOUT": 10},
                categories="快乐,伤感")

    assert cut.reason == "closespider_timeout"
    run = CrawlRun.objects.get()
    assert set(run.progress["categories_done"]) == {"快乐", "伤感"}
    assert "101" in run.progress["playlist_tags"]  # read, its songs not fetched yet
    assert set(run.progress["songs"]) >= {"11", "12"}

    finished = crawl("netease", settings=ONE_AT_A_TIME, categories="快乐,伤感")

    assert finished.reason == "finished" and finished.stat("mien/netease/resumed") == 1
    assert len(site.hits_on("/api/playlist/list")) == 2  # both categories listed once, by the cut run
    assert len([p for p in site.hits_on("/api/v6/playlist/detail") if p["id"] == "101"]) == 1
    assert sorted(Song.objects.values_list("external_id", flat=True)) == ["11", "12", "21"]
    sunny = Song.objects.get(external_id="12")  # its playlist was read by the cut run: its tags kept
    assert {"cheerful", "chinese", "pop"} <= set(sunny.tags.values_list("name", flat=True))
    assert CrawlRun.objects.order_by("-id").first().progress == {}
