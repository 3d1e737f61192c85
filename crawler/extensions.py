"""CrawlRunRecorder: every crawl is recorded as a CrawlRun, and holds its spider's lock.

Started by ``manage.py crawl`` (or the Celery task), the crawl process gets the run's id as the
CRAWL_RUN_ID setting: the parent already holds the lock. Started directly (``scrapy crawl NAME``), the
extension takes the lock itself and, if the spider is already running or backing off after a block,
closes the spider at once (reason ``already_running`` or ``backing_off``). In both cases it renews the lock's lease while the crawl runs and, when
the spider closes, writes the counts and problems from the crawl stats into the run.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.db import in_db_thread

log = logging.getLogger(__name__)


class CrawlRunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        run_id = crawler.settings.get("CRAWL_RUN_ID")
        self.run_id = int(run_id) if run_id not in (None, "", "None") else None
        self.blocked = False
        self.heartbeat_task = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("CRAWL_RUN_RECORDING", True):
            raise NotConfigured
        return cls(crawler)

    async def spider_opened(self, spider):
        from recommender.crawling import CrawlBackingOff, CrawlNotStarted, start_run

        if self.run_id is None:
            try:
                run = await in_db_thread(start_run, spider.name)
            except CrawlNotStarted as exc:  # already running, or backing off after the site blocked it
                log.error("%s", exc)
                self.blocked = True
                reason = "backing_off" if isinstance(exc, CrawlBackingOff) else "already_running"
                asyncio.get_running_loop().call_soon(self._close, reason)
                return
            self.run_id = run.pk
        self.crawler.stats.set_value("mien/crawl_run_id", self.run_id)
        self.heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat())

    def _close(self, reason: str) -> None:
        asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=reason))

    async def _heartbeat(self):
        from recommender.crawling import heartbeat

        interval = max(0.5, self.crawler.settings.getfloat("CRAWL_HEARTBEAT", 60))
        while True:
            await asyncio.sleep(interval)
            try:
                if not await in_db_thread(heartbeat, self.run_id):
                    log.warning("CrawlRun #%s is no longer marked running; its lock may be taken", self.run_id)
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat is not worth stopping the crawl
                log.warning("could not renew the crawl lock: %s", exc)

    async def spider_closed(self, spider, reason):
        from recommender.crawling import finish_run

        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        if self.blocked or self.run_id is None:
            return
        resume = getattr(spider, "resume_state", None)  # where to carry on next time, for spiders that can
        run = await in_db_thread(finish_run, self.run_id, reason=reason, stats=self.crawler.stats.get_stats(),
                                 disabled_reason=getattr(spider, "disabled_reason", ""),
                                 progress=resume() if resume else None)
        if run is not None:
            log.info("CrawlRun #%d %s: %s", run.pk, run.status, run.message.replace("\n", " | "))
