"""What every Mien spider shares: reading JSON answers and accounting for what it could not use.

Every problem is logged with its reason and counted in the crawl stats, under
``mien/dropped/<reason>`` for songs the spider had to give up on and ``mien/bad_response/<reason>``
for listing pages it could not read; CrawlRun records both.
"""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError


NO_CONTACT = ("the {name} spider did not run: CRAWLER_CONTACT is not set. A crawler that visits a live site "
              "must tell it how to reach its operator: export CRAWLER_CONTACT (a URL or an e-mail address); "
              "it goes into the User-Agent.")


def is_local(url: str) -> bool:
    """A site on this machine (the test stand-ins), which needs no operator contact."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MienSpider(scrapy.Spider):
    #: a person-readable reason when the spider cannot run at all (e.g. no API key); CrawlRun shows it
    disabled_reason = ""

    def __init__(self, *args, max_items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._max_items_arg = max_items

    @property
    def max_items(self) -> int:
        """Songs wanted this run (0 = no limit): the max_items argument or CLOSESPIDER_ITEMCOUNT."""
        value = self._max_items_arg or self.settings.getint("CLOSESPIDER_ITEMCOUNT")
        return max(0, int(value or 0))

    @property
    def has_database(self) -> bool:
        """Runs are recorded in the library's database (always, but in the extraction-only tests)."""
        return self.settings.getbool("CRAWL_RUN_RECORDING", True)

    @property
    def site_urls(self) -> list[str]:
        """The base URLs this spider requests (for the contact check)."""
        return [self.base_url]

    def refused_without_contact(self) -> bool:
        """True (and the run is recorded as skipped) when a live site would be crawled anonymously."""
        if (self.settings.get("CRAWLER_CONTACT") or "").strip() or all(is_local(u) for u in self.site_urls):
            return False
        self.disabled_reason = NO_CONTACT.format(name=self.name)
        self.logger.error(self.disabled_reason)
        return True

    # -- accounting ---------------------------------------------------------------------------
    def drop(self, reason: str, detail: str, count: int = 1) -> None:
        """Give up on `count` songs for `reason` (a short slug) and say why."""
        self.logger.warning("dropped %d song(s): %s (%s)", count, reason, detail)
        self.crawler.stats.inc_value("mien/dropped", count)
        self.crawler.stats.inc_value(f"mien/dropped/{reason}", count)

    def bad_response(self, reason: str, detail: str) -> None:
        """A listing page that could not be used; the rest of the crawl goes on."""
        self.logger.warning("unusable response: %s (%s)", reason, detail)
        self.crawler.stats.inc_value("mien/bad_response")
        self.crawler.stats.inc_value(f"mien/bad_response/{reason}")

    # -- reading ------------------------------------------------------------------------------
    def read_json(self, response, what: str, on_error=None):
        """The JSON document in `response`, or None after reporting why it is unusable.

        on_error(reason, detail) reports the problem (default: bad_response).
        """
        report = on_error or self.bad_response
        body = response.body.lstrip()
        if not body:
            report("empty", f"{what}: empty body from {response.url}")
            return None
        if body[:1] == b"<":
            report("html_not_json", f"{what}: an HTML page instead of JSON from {response.url}")
            return None
        try:
            return json.loads(response.text)
        except (ValueError, UnicodeDecodeError) as exc:
            report("malformed_json", f"{what}: {exc} in {response.url}")
            return None

    @staticmethod
    def failure_reason(failure) -> str:
        """A short slug for why a request failed after its retries."""
        if failure.check(HttpError):
            return f"http_{failure.value.response.status}"
        if failure.check(IgnoreRequest):
            return "forbidden_by_robots" if "robots" in str(failure.value).lower() else "ignored"
        if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
            return "timeout"
        if failure.check(CannotResolveHostError, DNSLookupError):
            return "dns_error"
        if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
            return "connection_refused"
        return failure.type.__name__.lower() if failure.type else "error"

    def listing_failed(self, failure):
        """Errback for listing requests: the listing is lost, the crawl goes on."""
        self.bad_response(self.failure_reason(failure), f"{failure.request.url}: {failure.getErrorMessage()}")
