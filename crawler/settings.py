"""Scrapy settings for Mien's crawler.

Everything a maintainer tunes comes from the environment (see crawler/README.md); any of these can
also be overridden per run with ``-s NAME=VALUE``. Importing this module sets up Django, so that the
pipelines can write through ``recommender.library`` (DJANGO_SETTINGS_MODULE defaults to
``webapp.settings``).
"""

import logging
import os
from urllib.parse import urlsplit

import django
from django.apps import apps

if not apps.ready:  # `scrapy ...` typed in a fresh checkout: development settings, as manage.py
    from webapp.environment import use_development_defaults

    use_development_defaults(program="scrapy")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
if not apps.ready:  # inside Django already (tests, the web process): leave its logging alone
    django.setup()
    # A crawl process of its own (`scrapy crawl`): Scrapy installs its log handler; Django's console
    # handler on the root logger would print every line twice.
    logging.getLogger().handlers.clear()


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


BOT_NAME = "mien"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- politeness -------------------------------------------------------------------------------
# Say who we are and how to reach the operator (set CRAWLER_CONTACT to a URL or e-mail address).
# Without it the spiders refuse to crawl a live site (a site on 127.0.0.1 / localhost needs none).
# No browser disguise: no spoofed User-Agent, Referer or cookies.
CRAWLER_CONTACT = os.environ.get("CRAWLER_CONTACT", "")
USER_AGENT = ("MienBot/1.0 (Mien music-emotion library crawler; "
              + (f"+{CRAWLER_CONTACT})" if CRAWLER_CONTACT else "operator: set CRAWLER_CONTACT)"))
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

CONCURRENT_REQUESTS = _env_int("CRAWL_CONCURRENT_REQUESTS", 4)
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = _env_float("CRAWL_DOWNLOAD_DELAY", 1.0)  # also AutoThrottle's floor
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = _env_float("CRAWL_AUTOTHROTTLE_START_DELAY", 3.0)
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = _env_int("CRAWL_DOWNLOAD_TIMEOUT", 30)
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024

# Retries with exponential backoff (and Retry-After on 429/503): see crawler/middlewares.py.
RETRY_ENABLED = True
RETRY_TIMES = _env_int("CRAWL_RETRY_TIMES", 3)
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = _env_float("CRAWL_RETRY_BACKOFF_BASE", 2.0)  # seconds before the first retry
RETRY_BACKOFF_MAX = _env_float("CRAWL_RETRY_BACKOFF_MAX", 120.0)
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.SiteBlockMiddleware": 580,  # between retries (550) and redirects (600)
}

# A whole run stops after this long (seconds; 0 = no limit) or, with --max-items, after that many
# songs (CLOSESPIDER_ITEMCOUNT).
CLOSESPIDER_TIMEOUT = _env_int("CRAWL_MAX_SECONDS", 3 * 3600)

# --- sites --------------------------------------------------------------------------------------
NETEASE_API_URL = _env_str("NETEASE_API_URL", "https://music.163.com").rstrip("/")
NETEASE_CATEGORIES = _env_list("NETEASE_CATEGORIES", [
    # mood categories
    "快乐", "伤感", "治愈", "放松", "兴奋", "安静", "孤独", "思念", "浪漫", "清新", "感动", "怀旧",
    # style categories
    "轻音乐", "钢琴", "网络歌曲", "摇滚", "说唱", "金属", "古典", "民谣", "电子",
])
NETEASE_PLAYLISTS_PER_CATEGORY = _env_int("NETEASE_PLAYLISTS_PER_CATEGORY", 35)
NETEASE_PAGE_SIZE = 35
NETEASE_SONG_DETAIL_BATCH = 50
NETEASE_FETCH_LYRICS = os.environ.get("NETEASE_FETCH_LYRICS", "1") not in ("0", "false", "no", "off")
# NetEase's own pace: one request at a time this far apart (never below 3 s; AutoThrottle is off for it).
NETEASE_DOWNLOAD_DELAY = _env_float("NETEASE_DOWNLOAD_DELAY", 3.0)
# After a block, scheduled netease runs are skipped for this long (reports tell of bans of days).
NETEASE_BLOCK_BACKOFF_HOURS = _env_float("NETEASE_BLOCK_BACKOFF_HOURS", 48.0)

JAMENDO_API_URL = _env_str("JAMENDO_API_URL", "https://api.jamendo.com/v3.0").rstrip("/")
JAMENDO_CLIENT_ID = os.environ.get("JAMENDO_CLIENT_ID", "")
JAMENDO_TAGS = _env_list("JAMENDO_TAGS", [
    "happy", "sad", "calm", "relaxing", "energetic", "dark", "romantic", "melancholic", "epic",
    "uplifting", "dramatic", "meditative",
])
JAMENDO_TRACKS_PER_TAG = _env_int("JAMENDO_TRACKS_PER_TAG", 200)
JAMENDO_PAGE_SIZE = 200  # the API's maximum `limit`

LRCLIB_API_URL = _env_str("LRCLIB_API_URL", "https://lrclib.net").rstrip("/")
LYRICS_SONGS_PER_RUN = _env_int("LYRICS_SONGS_PER_RUN", 300)
LYRICS_DURATION_TOLERANCE = 2.0  # seconds; LRCLIB's own matching tolerance

# Per-site limits: at most `concurrency` requests in flight, at least `delay` seconds apart (no
# random shortening). AutoThrottle adapts the delay upwards from there for jamendo; the netease
# spider turns AutoThrottle off (a fixed pace), and the lyrics spider asks one thing at a time.
# Keyed by host, so they follow the base URLs above.
_SITE_LIMITS = ((NETEASE_API_URL, 1, max(3.0, NETEASE_DOWNLOAD_DELAY)), (JAMENDO_API_URL, 2, 1.0),
                (LRCLIB_API_URL, 1, 1.0))
DOWNLOAD_SLOTS = {}
for _url, _concurrency, _delay in _SITE_LIMITS:
    DOWNLOAD_SLOTS.setdefault(urlsplit(_url).hostname, {"concurrency": _concurrency, "delay": _delay, "jitter": 0})

# --- processing ---------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "crawler.pipelines.ValidationPipeline": 100,
    "crawler.pipelines.TaggingPipeline": 300,
    "crawler.pipelines.IngestPipeline": 800,
}
INGEST_BATCH_SIZE = _env_int("CRAWL_INGEST_BATCH_SIZE", 100)
EXTENSIONS = {"crawler.extensions.CrawlRunRecorder": 100}
CRAWL_RUN_ID = None  # set by `manage.py crawl`; without it the run records (and locks) itself
CRAWL_LOCK_LEASE = _env_int("CRAWL_LOCK_LEASE", 300)  # seconds a run's lock lives without a heartbeat
CRAWL_HEARTBEAT = max(1, CRAWL_LOCK_LEASE // 5)

LOG_LEVEL = _env_str("CRAWL_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
