"""Crawls into the library: CrawlRun records, the per-spider lock, `manage.py crawl`, end to end."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from recommender import crawling
from recommender.crawling import songs_missing_lyrics
from recommender.models import REVIEW_THRESHOLD
from recommender.emotion.labels import EMOTIONS
from recommender.models import CrawlRun, Song
from tests.crawler.conftest import WITH_DATABASE
from tests.crawler.fakesite import Reply
from tests.crawler.recorded import (
    jamendo_track,
    jamendo_tracks,
    serve_netease,
)

ON_POSTGRES = connection.vendor == "postgresql"


def serve_happy(site, delay=0.0):
    """快乐's two playlists (songs 11, 12 and 12, 13), their listing answered after `delay` seconds."""
    serve_netease(site, {"快乐": [(101, "开心", ["华语", "流行", "快乐"], [11, 12]),
                                  (102, "Sunny", ["欧美", "快乐", "清新"], [12, 13])]},
                  [(11, "小幸运", ["田馥甄"], 265000, 90.0), (12, "Happy", ["Pharrell Williams"], 233000, 99.0),
                   (13, "Rain", ["Beat Bazaar"], 200000, 60.0)],
                  "[00:01.00]sunshine on my mind", list_delay=delay)


# --- the lock --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_second_run_of_a_running_spider_is_refused_and_recorded():
    first = crawling.start_run("netease")

    with pytest.raises(crawling.CrawlAlreadyRunning, match=f"already running \\(run #{first.pk}"):
        crawling.start_run("netease")

    other = crawling.start_run("jamendo")  # other spiders are not blocked
    skipped = CrawlRun.objects.get(status=CrawlRun.Status.SKIPPED)
    assert (skipped.spider, skipped.finish_reason) == ("netease", "already_running")
    assert other.status == CrawlRun.Status.RUNNING


@pytest.mark.django_db
def test_a_lock_whose_lease_ran_out_is_abandoned_and_taken():
    stale = crawling.start_run("netease")
    CrawlRun.objects.filter(pk=stale.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    fresh = crawling.start_run("netease")

    stale.refresh_from_db()
    assert stale.status == CrawlRun.Status.ABANDONED and stale.finished_at is not None
    assert fresh.status == CrawlRun.Status.RUNNING
    assert crawling.heartbeat(fresh.pk) and not crawling.heartbeat(stale.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("reason", "disabled", "status"), [
    ("finished", "", "finished"), ("closespider_itemcount", "", "finished"), ("shutdown", "", "failed"),
    ("jamendo_api_error", "", "failed"), ("finished", "no key", "skipped"),
])
def test_finishing_a_run_records_its_counts_and_releases_the_lock(reason, disabled, status):
    run = crawling.start_run("netease")
    stats = {"item_scraped_count": 7, "mien/ingest/created": 4, "mien/ingest/updated": 1, "mien/ingest/merged": 1,
             "mien/dropped": 2, "mien/dropped/missing_title": 2, "log_count/ERROR": 1,
             "start_time": timezone.now()}

    crawling.finish_run(run.pk, reason=reason, stats=stats, disabled_reason=disabled)

    run.refresh_from_db()
    assert run.status == status and run.finish_reason == reason
    assert (run.items_scraped, run.items_new, run.items_updated, run.items_merged, run.items_dropped,
            run.errors) == (7, 4, 1, 1, 2, 1)
    assert "missing_title x2" in run.message and isinstance(run.stats["start_time"], str)
    assert crawling.start_run("netease").status == CrawlRun.Status.RUNNING  # the lock is free again


# --- crawls into the library (in this process, on the test reactor) --------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_crawl_fills_the_library_records_its_run_and_is_idempotent(crawl, site, owner):
    from recommender.library import ingest_many
    from recommender.models import TypicalSong
    from recommender.playlists import recommend

    ingest_many([{"source": "manual", "external_id": f"m{n}", "title": f"Old favourite {n}", "artist": "Someone",
                  "tags": ["pop", "western"]} for n in range(3)])
    for typical in Song.objects.all():
        TypicalSong.objects.create(user=owner, emotion="happy", song=typical)
    serve_happy(site)

    crawl("netease", settings=WITH_DATABASE, categories="快乐")

    run = CrawlRun.objects.get()
    assert run.status == CrawlRun.Status.FINISHED and run.finished_at >= run.started_at
    # three songs, each ingested as soon as its details came, then its lyrics as an item of their own
    assert (run.items_scraped, run.items_new, run.items_updated, run.items_dropped) == (6, 3, 0, 0)
    happy = Song.objects.get(source="netease", external_id="12")
    assert (happy.title, happy.artist, happy.duration, happy.popularity) == ("Happy", "Pharrell Williams", 233.0, 99)
    assert sorted(happy.tags.values_list("name", flat=True)) == ["cheerful", "chinese", "fresh", "pop", "western"]
    assert happy.labels.get(source="catalogue").confidence == 1.0  # from its playlists' mood tags
    assert happy.labels.get(source="model").probabilities  # and its lyrics, labelled on the way in
    # ... and it is recommended to a happy person whose typical happy songs share its tags
    playlist = recommend(owner, "happy")
    assert playlist[0]["id"] == happy.pk and set(playlist[0]["why"]) == {"pop", "western"}

    crawl("netease", settings=WITH_DATABASE, categories="快乐")  # the same songs again

    assert Song.objects.count() == 3 + 3
    assert Song.tags.through.objects.count() == 3 * 2 + (3 + 5 + 3)  # no duplicated rows either
    second = CrawlRun.objects.order_by("-id").first()
    assert second.pk != run.pk and (second.items_scraped, second.items_new) == (3, 0)
    assert len(site.hits_on("/api/song/lyric")) == 3  # lyrics the library has are not asked for again


@pytest.mark.django_db(transaction=True)
def test_the_same_song_from_netease_and_jamendo_is_one_song_with_both_tags(crawl, site):
    serve_happy(site)
    site.route("/v3.0/tracks/", Reply(json=jamendo_tracks([
        jamendo_track(950, "Rain", "Beat Bazaar", genres=["ambient"], vartags=["sad"]),
        jamendo_track(951, "Only On Jamendo", "Beat Bazaar", genres=["rock"]),
    ])))

    crawl("netease", settings=WITH_DATABASE, categories="快乐")
    crawl("jamendo", settings={**WITH_DATABASE, "JAMENDO_CLIENT_ID": "k"}, tags="sad")

    assert Song.objects.count() == 4
    rain = Song.objects.get(normalised_key="rain|beatbazaar")
    assert rain.source == "netease"  # the first source's song keeps its identity
    assert {"ambient", "sad", "cheerful"} <= set(rain.tags.values_list("name", flat=True))
    jamendo_run = CrawlRun.objects.get(spider="jamendo")
    assert (jamendo_run.items_new, jamendo_run.items_merged) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_direct_scrapy_run_of_a_running_spider_stops_at_once(crawl, site):
    serve_happy(site)
    holder = crawling.start_run("netease")

    result = crawl("netease", settings=WITH_DATABASE, categories="快乐")

    assert result.reason == "already_running"
    assert site.hits_on("/api/playlist/list") == []
    assert Song.objects.count() == 0
    assert CrawlRun.objects.get(pk=holder.pk).status == CrawlRun.Status.RUNNING
    assert CrawlRun.objects.filter(status=CrawlRun.Status.SKIPPED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_jamendo_without_a_client_id_is_recorded_as_skipped_with_the_reason(crawl, site):
    crawl("jamendo", settings={**WITH_DATABASE, "JAMENDO_CLIENT_ID": ""})

    run = CrawlRun.objects.get()
    assert run.status == CrawlRun.Status.SKIPPED
    assert "JAMENDO_CLIENT_ID is not set" in run.message


# --- manage.py crawl and the periodic task ----------------------------------------------------------------
@pytest.mark.django_db
def test_the_crawl_command_refuses_a_spider_that_is_already_running():
    holder = crawling.start_run("netease")

    with pytest.raises(CommandError, match="not completed: netease"):
        call_command("crawl", "netease", stdout=io.StringIO(), stderr=io.StringIO())

    assert CrawlRun.objects.get(pk=holder.pk).status == CrawlRun.Status.RUNNING
    assert CrawlRun.objects.filter(spider="netease", status=CrawlRun.Status.SKIPPED).count() == 1


def test_the_project_lists_exactly_the_spiders_the_runner_knows():
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    settings = Settings()
    settings.setmodule("crawler.settings")
    assert sorted(SpiderLoader.from_settings(settings).list()) == sorted(crawling.SPIDERS)


def test_crawl_all_runs_each_spider_and_skips_one_already_running(monkeypatch):
    calls = []

    def fake_run(spider, max_items=None):
        calls.append((spider, max_items))
        if spider == "jamendo":
            raise crawling.CrawlAlreadyRunning(spider, None)
        return CrawlRun(spider=spider, status=CrawlRun.Status.FINISHED, message="3 scraped")

    monkeypatch.setattr(crawling, "run_spider", fake_run)

    outcome = crawling.crawl_all.run(max_items=5)

    assert outcome == {"netease": "finished", "jamendo": "skipped", "lyrics": "finished"}
    assert calls == [("netease", 5), ("jamendo", 5), ("lyrics", 5)]
    assert crawling.crawl_all.name == "recommender.tasks.crawl_all"


def test_long_jobs_go_to_the_background_queue_that_a_documented_worker_serves():
    from pathlib import Path

    from webapp.celery import app

    entry = app.conf.beat_schedule["crawl-music-sites"]
    assert entry["task"] == crawling.crawl_all.name and entry["task"] in app.tasks
    for task in ("recommender.tasks.crawl_all", "recommender.tasks.retrain_song_classifier"):
        assert app.amqp.router.route({}, task)["queue"].name == "background", task
    from webapp.tasks import recognise_and_recommend

    assert app.amqp.router.route({}, recognise_and_recommend.name)["queue"].name == "celery"  # selfies
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "worker -Q background" in makefile and "worker -Q celery" in makefile


def command_args(site, *extra):
    # No AutoThrottle here: it would space the requests by the deliberately slow answer's latency.
    overrides = {"NETEASE_API_URL": site.url, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                 "DOWNLOAD_SLOTS": "{}", "RETRY_BACKOFF_BASE": 0.01, "CRAWL_HEARTBEAT": 1,
                 "INGEST_BATCH_SIZE": 2, "LOG_LEVEL": "WARNING"}
    args = ["crawl", "netease", "-a", "categories=快乐", *extra]
    for key, value in overrides.items():
        args += ["-s", f"{key}={value}"]
    return args


@pytest.mark.skipif(not ON_POSTGRES, reason="a crawl process can share the test database on PostgreSQL only "
                                           "(SQLite's test database lives in this process's memory)")
@pytest.mark.django_db(transaction=True)
def test_the_crawl_command_runs_the_spider_in_its_own_process_into_the_database(site):
    serve_happy(site)
    out = io.StringIO()

    call_command(*command_args(site), stdout=out, stderr=io.StringIO())
    call_command(*command_args(site, "--max-items", "2"), stdout=out, stderr=io.StringIO())

    assert sorted(Song.objects.values_list("external_id", flat=True)) == ["11", "12", "13"]
    first, second = CrawlRun.objects.order_by("id")
    assert first.status == second.status == CrawlRun.Status.FINISHED
    assert first.pid != second.pid and first.host
    assert (first.items_scraped, first.items_new) == (6, 3)  # three songs, then their lyrics
    # --max-items: two songs, whose lyrics the library has already
    assert (second.items_scraped, second.items_new, second.finish_reason) == (2, 0, "finished")
    assert "netease: run #" in out.getvalue() and "3 new" in out.getvalue()


@pytest.mark.skipif(not ON_POSTGRES, reason="a crawl process can share the test database on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_crawl_commands_run_the_spider_once(site):
    serve_happy(site, delay=2.0)  # keeps the first crawl busy
    outcome = {}

    def first():
        try:
            call_command(*command_args(site), stdout=io.StringIO(), stderr=io.StringIO())
            outcome["first"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcome["first"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 20
    while not CrawlRun.objects.filter(status=CrawlRun.Status.RUNNING).exists():
        assert time.monotonic() < deadline, "the first crawl never started"
        time.sleep(0.1)

    with pytest.raises(CommandError, match="not completed: netease"):
        call_command(*command_args(site), stdout=io.StringIO(), stderr=io.StringIO())
    thread.join(60)

    assert outcome["first"] == "ok"
    assert len(site.hits_on("/api/playlist/list")) == 1
    assert sorted(CrawlRun.objects.values_list("status", flat=True)) == ["finished", "skipped"]
    assert Song.objects.count() == 3


@pytest.mark.skipif(not ON_POSTGRES, reason="a crawl process can share the test database on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_crawl_process_that_dies_or_overruns_is_recorded_as_failed_and_frees_the_lock(site):
    # The overrun must come after the child is up (Django + Scrapy take seconds to start on a busy
    # machine), so that it is stopped gracefully rather than killed before it can record anything.
    serve_happy(site, delay=20.0)

    with pytest.raises(CommandError):
        call_command(*command_args(site, "-s", "CLOSESPIDER_TIMEOUT=not-a-number"), stdout=io.StringIO(),
                     stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command(*command_args(site, "--timeout", "8"), stdout=io.StringIO(), stderr=io.StringIO())

    crashed, stopped = CrawlRun.objects.order_by("id")
    assert crashed.status == CrawlRun.Status.FAILED and "exited with code 1" in crashed.message
    assert "CLOSESPIDER_TIMEOUT" in crashed.message or "not-a-number" in crashed.message  # the log's tail
    assert stopped.status == CrawlRun.Status.FAILED and stopped.finish_reason == "shutdown"
    assert crawling.start_run("netease").status == CrawlRun.Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_lyrics_found_go_to_the_library_through_the_seam(crawl, site, monkeypatch):
    import recommender.library as library

    Song.objects.create(source="netease", external_id="11", title="小幸运", artist="田馥甄", duration=265.0)
    site.route("/api/search", Reply(json=[{"id": 7, "trackName": "小幸运", "artistName": "田馥甄", "albumName": "A",
                                          "duration": 265, "instrumental": False, "plainLyrics": "原来你是\n我最想留住的幸运",
                                          "syncedLyrics": None}]))
    handed = []
    real = library.ingest_many
    monkeypatch.setattr(library, "ingest_many", lambda items, **kw: handed.extend(items) or real(items, **kw))

    crawl("lyrics", settings=WITH_DATABASE)

    assert handed == [{"source": "netease", "external_id": "11", "title": "小幸运", "artist": "田馥甄",
                       "lyrics": "原来你是\n我最想留住的幸运"}]
    assert CrawlRun.objects.get(spider="lyrics").status == CrawlRun.Status.FINISHED
    song = Song.objects.get()
    label = song.labels.get()
    assert label.source == "model" and set(label.probabilities) == set(EMOTIONS)
    assert song.lyrics_sha1 and song.lyrics_checked_at and "polarity" in song.lyrics_features
    # Dropped once labelled unless the curator's review queue still needs them (MIEN_STORE_LYRICS off).
    assert song.lyrics == ("" if label.confidence >= REVIEW_THRESHOLD else "原来你是\n我最想留住的幸运")
    assert songs_missing_lyrics(10) == []  # looked up and labelled: not asked for again
