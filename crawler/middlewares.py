"""Retries with exponential backoff.

Scrapy's RetryMiddleware re-schedules a failed request (a 5xx, 408 or 429 answer, a timeout, a
dropped connection) at once. This one waits first: ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds before
the n-th retry (with up to 25% jitter), never more than ``RETRY_BACKOFF_MAX``; only the retried
request waits. A 429 or 503 with ``Retry-After`` is the site asking everyone to wait: every request
to that host waits that long, and a request it asks to wait longer than ``RETRY_BACKOFF_MAX`` for is
given up rather than retried early (counted as ``retry/retry_after_too_long``).
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)
        self.host_paused_until: dict[str, float] = {}  # host -> monotonic time its Retry-After ends

    async def process_request(self, request):
        delay = request.meta.pop("retry_backoff", 0)
        paused = self.host_paused_until.get(urlsplit(request.url).hostname, 0) - time.monotonic()
        if max(delay, paused) > 0:
            await asyncio.sleep(max(delay, paused))
        return None

    def process_response(self, request, response):
        retry_after = _retry_after_seconds(response.headers.get(b"Retry-After"))
        if retry_after is not None and response.status in (429, 503):
            host = urlsplit(request.url).hostname
            self.host_paused_until[host] = max(self.host_paused_until.get(host, 0),
                                               time.monotonic() + min(retry_after, self.backoff_max))
            if retry_after > self.backoff_max:
                self.crawler.stats.inc_value("retry/retry_after_too_long")
                return response  # not retried sooner than asked: the errback sees the 429/503
        result = super().process_response(request, response)
        if isinstance(result, Request):
            result.meta["retry_backoff"] = self.backoff(result.meta.get("retry_times", 1), retry_after)
            self.crawler.stats.inc_value(f"retry/backoff/{response.status}")
        return result

    def process_exception(self, request, exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            result.meta["retry_backoff"] = self.backoff(result.meta.get("retry_times", 1))
        return result

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.backoff_max, retry_after)
        delay = self.backoff_base * 2 ** max(0, attempt - 1)
        return min(self.backoff_max, delay * (1 + random.uniform(0, 0.25)))


def _retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    from datetime import datetime, timezone

    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class SiteBlockMiddleware:
    """Sends nothing more once a spider's site has blocked the crawl.

    For spiders with ``detect_block(response) -> reason | None`` (netease): the first block seen
    is noted on the spider (``note_block``) as the answer arrives, before the engine hands the next
    request over; every request after it is dropped unsent (IgnoreRequest) while the spider's
    callback stops the run. Placed after RedirectMiddleware, so it sees where a redirect ended.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        from scrapy.exceptions import IgnoreRequest

        blocked = getattr(self.crawler.spider, "blocked_by", "")
        if blocked:
            self.crawler.stats.inc_value("mien/not_sent_after_block")
            raise IgnoreRequest(f"not sent: the site blocked this crawl ({blocked})")

    def process_response(self, request, response):
        spider = self.crawler.spider
        detect = getattr(spider, "detect_block", None)
        if detect is not None and not spider.blocked_by:
            reason = detect(response, request)
            if reason:
                spider.note_block(reason)
        return response
