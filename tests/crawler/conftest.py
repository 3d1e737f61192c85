"""Crawler fixtures: the local fake site, a Twisted reactor running in a thread, and `crawl()`.

Scrapy's reactor cannot be restarted, so one asyncio reactor runs for the whole session in a
background thread and each test's crawl is scheduled on it: the same event loop setup as
`scrapy crawl`, so database work from the pipelines goes through worker threads here too. Tests
that write to the database from a crawl need `django_db(transaction=True)` (the crawl's threads
use their own connections).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import pytest

import crawler.settings  # noqa: F401 - sets up Django now, not in the middle of a test
from tests.crawler.fakesite import FakeSite

CRAWL_TIMEOUT = 30


@pytest.fixture(scope="session")
def fake_site():
    site = FakeSite().start()
    yield site
    site.stop()


@pytest.fixture
def site(fake_site):
    fake_site.reset()
    yield fake_site
    fake_site.reset()


@pytest.fixture(scope="session")
def reactor():
    from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

    if not is_reactor_installed():
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    if not is_asyncio_reactor_installed():
        pytest.skip("another Twisted reactor is installed in this process")
    from twisted.internet import reactor as installed

    asyncio.set_event_loop(None)  # the loop belongs to the reactor thread, not this one
    if not installed.running:
        thread = threading.Thread(target=installed.run, kwargs={"installSignalHandlers": False},
                                  name="reactor", daemon=True)
        thread.start()
    yield installed


def on_reactor(reactor, function, timeout=CRAWL_TIMEOUT):
    """Call `function` in the reactor thread; wait for the Deferred or coroutine it returns."""
    from twisted.internet import defer

    done, box = threading.Event(), {}

    def call():
        try:
            result = function()
            if asyncio.iscoroutine(result):
                result = defer.Deferred.fromFuture(asyncio.ensure_future(result))
            d = defer.maybeDeferred(lambda: result)
        except Exception as exc:  # noqa: BLE001
            box["error"] = exc
            done.set()
            return

        def finish(value):
            if hasattr(value, "value") and hasattr(value, "getTraceback"):  # a Failure
                box["error"] = value.value
            else:
                box["value"] = value
            done.set()

        d.addBoth(finish)

    reactor.callFromThread(call)
    if not done.wait(timeout):
        raise TimeoutError(f"the reactor did not finish within {timeout}s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


@dataclass
class CrawlResult:
    crawler: object
    items: list = field(default_factory=list)

    @property
    def stats(self) -> dict:
        return self.crawler.stats.get_stats()

    def stat(self, key, default=0):
        return self.stats.get(key, default)

    @property
    def reason(self):
        return self.stats.get("finish_reason")

    def collect(self, item, **_):
        self.items.append(item)

    def by_id(self):
        """Each song as the library ends up with it: a later item (its lyrics) fills in fields."""
        songs = {}
        for item in self.items:
            songs.setdefault(item["external_id"], {}).update(dict(item))
        return songs


def crawl_settings(site, **overrides):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict({
        "NETEASE_API_URL": site.url, "JAMENDO_API_URL": site.url + "/v3.0", "LRCLIB_API_URL": site.url,
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0, "DOWNLOAD_SLOTS": {}, "DOWNLOAD_TIMEOUT": 2,
        "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "RETRY_TIMES": 2,
        "RETRY_BACKOFF_BASE": 0.01, "RETRY_BACKOFF_MAX": 0.2, "CLOSESPIDER_TIMEOUT": CRAWL_TIMEOUT,
        "CRAWL_HEARTBEAT": 1, "LOG_LEVEL": "INFO",
        # Without a database: extraction and the cleaning pipelines only; the DB tests turn these back on.
        "ITEM_PIPELINES": {"crawler.pipelines.ValidationPipeline": 100, "crawler.pipelines.TaggingPipeline": 300},
        "CRAWL_RUN_RECORDING": False,
    }, priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
    return settings


WITH_DATABASE = {
    "ITEM_PIPELINES": {"crawler.pipelines.ValidationPipeline": 100, "crawler.pipelines.TaggingPipeline": 300,
                       "crawler.pipelines.IngestPipeline": 800},
    "CRAWL_RUN_RECORDING": True,
    "INGEST_BATCH_SIZE": 3,
}


@pytest.fixture
def crawl(reactor, site):
    """crawl(spider_name, settings=..., **spider_args) -> CrawlResult, run on the session reactor."""
    from scrapy import signals
    from scrapy.crawler import CrawlerRunner

    def run(spider: str, settings: dict | None = None, **spider_args) -> CrawlResult:
        holder = {}

        def start():
            runner = CrawlerRunner(crawl_settings(site, **(settings or {})))
            crawler = runner.create_crawler(spider)
            result = holder["result"] = CrawlResult(crawler)
            crawler.signals.connect(result.collect, signal=signals.item_scraped)
            return runner.crawl(crawler, **spider_args)

        on_reactor(reactor, start, timeout=CRAWL_TIMEOUT + 15)
        return holder["result"]

    return run
