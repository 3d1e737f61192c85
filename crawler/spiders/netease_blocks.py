"""How NetEase Cloud Music turns away a client it takes for a robot.

Its web endpoints are unofficial and answer a block in several shapes, none of them an honest 429:

- HTTP 200 with JSON ``{"code": -460, "msg": "Cheating"}`` (also ``"message": "网络太拥挤，请稍候再试！"``);
- ``-462`` with a ``data.blockText`` and a ``verifyUrl`` (a verification is wanted), ``-447``
  ("服务器忙碌") and ``405`` ("操作频繁，请稍候再试");
- an HTML page (a block or captcha page) where JSON was asked for;
- a redirect away from the API (to a verification page).

Reports from other clients (Binaryify/NeteaseCloudMusicApi issues #289, #400, #651, #807, #1658)
show these after too many requests from one address, and bans of days at faster rates. The only
answer is to stop and come back much later, never to keep asking.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from scrapy.exceptions import CloseSpider

BLOCK_CODES = {-460: "cheating / too many requests", -462: "verification required", -447: "server busy",
               405: "too many requests"}


def block_reason(response, data=None, request=None) -> str | None:
    """Why `response` is a block (a short sentence), or None when it is an ordinary answer.

    data: the parsed JSON of the response, when the caller has it; request: the request it answers
    (in a downloader middleware, where the response is not yet tied to it).
    """
    redirects = (request.meta if request is not None else response.meta).get("redirect_urls") or []
    if redirects and urlsplit(response.url).path != urlsplit(redirects[0]).path:
        return f"redirected from the API to {response.url} (a verification page)"
    if response.status in (403, 405):  # (a 429 is an honest "slow down": retried after Retry-After)
        return f"HTTP {response.status} from {urlsplit(response.url).path}"
    if response.body.lstrip()[:1] == b"<":
        return f"an HTML page instead of the API's JSON from {urlsplit(response.url).path} (a block page)"
    if isinstance(data, dict) and data.get("code") in BLOCK_CODES:
        code = data["code"]
        detail = data.get("msg") or data.get("message")
        if not detail and isinstance(data.get("data"), dict):
            detail = data["data"].get("blockText")
        return f"code {code} ({BLOCK_CODES[code]}): {str(detail or 'no message')[:120]}"
    return None


class StopsOnBlock:
    """The netease spider's side of a block: note it once, stop the run, say for how long to keep away."""

    blocked_by = ""  # how the site blocked this run; nothing more is sent (crawler.middlewares.SiteBlockMiddleware)

    def detect_block(self, response, request=None) -> str | None:
        data = None
        if len(response.body) < 4096 and response.body.lstrip()[:1] == b"{":  # a block answer is short
            try:
                data = json.loads(response.text)
            except (ValueError, UnicodeDecodeError):
                pass
        return block_reason(response, data, request)

    def note_block(self, reason: str) -> None:
        """The site blocked us: record how and for how long to keep away (the CrawlRun shows both)."""
        hours = self.settings.getfloat("NETEASE_BLOCK_BACKOFF_HOURS", 48)
        self.blocked_by = reason
        self.logger.error("NetEase blocked the crawler: %s; stopping at once, no new run for %s h", reason, hours)
        self.crawler.stats.set_value("mien/blocked", reason)
        self.crawler.stats.set_value("mien/backoff_seconds", hours * 3600)

    def stop_if_blocked(self, response=None) -> None:
        if response is not None and not self.blocked_by:  # the middleware did not see it (unit use)
            reason = self.detect_block(response)
            if reason:
                self.note_block(reason)
        if self.blocked_by:
            raise CloseSpider("blocked")

    def read_api(self, response, what: str, on_error=None):
        self.stop_if_blocked(response)
        return self.read_json(response, what, on_error=on_error)

    def stop_if_failure_is_block(self, failure) -> None:
        self.stop_if_blocked(getattr(failure.value, "response", None))
