"""Running the crawler from Django: one subprocess per spider, one run at a time per spider.

``run_spider(name)`` takes the spider's lock (a CrawlRun row in status ``running``: the model's
partial unique constraint admits one per spider, on SQLite and PostgreSQL alike), starts
``python -m scrapy crawl NAME`` in its own process (Scrapy's Twisted reactor cannot be restarted
in a process), renews the lock's lease while the child runs, and makes sure the run ends up
recorded even if the child dies. The child's CrawlRunRecorder extension (crawler/extensions.py)
fills in the counts. ``manage.py crawl`` and the Celery task ``crawl_all`` both go through here.
"""

from __future__ import annotations

import collections
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from .models import CrawlRun

log = logging.getLogger(__name__)

SPIDERS = ("netease", "jamendo", "lyrics")  # `scrapy list`; checked by tests/crawler
REPO = Path(__file__).resolve().parent.parent
FINISHED_REASONS = ("finished",)  # and every "closespider_*" limit


def lock_lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "MIEN_CRAWL_LOCK_LEASE", 300))


class CrawlNotStarted(Exception):
    """The spider was not started (and a skipped run records why)."""


class CrawlAlreadyRunning(CrawlNotStarted):
    def __init__(self, spider: str, holder: CrawlRun | None):
        self.spider, self.holder = spider, holder
        since = f" (run #{holder.pk}, started {holder.started_at:%Y-%m-%d %H:%M:%S} UTC)" if holder else ""
        super().__init__(f"the {spider} spider is already running{since}; not starting another")


class CrawlBackingOff(CrawlNotStarted):
    def __init__(self, spider: str, blocked: CrawlRun):
        self.spider, self.blocked = spider, blocked
        super().__init__(f"the {spider} spider is backing off until {blocked.backoff_until:%Y-%m-%d %H:%M} UTC: "
                         f"run #{blocked.pk} was blocked by the site ({blocked.blocked_reason or 'see that run'})")


def backing_off(spider: str) -> CrawlRun | None:
    """The blocked run the spider is still backing off from, if any: the latest run that did run, when
    it recorded a back-off time still ahead (a later run that was let through ends the back-off)."""
    latest = (CrawlRun.objects.filter(spider=spider).exclude(status=CrawlRun.Status.SKIPPED)
              .order_by("-started_at", "-id").first())
    if latest and latest.backoff_until and latest.backoff_until > timezone.now():
        return latest
    return None


# --- the lock: a running CrawlRun ---------------------------------------------------------------
def start_run(spider: str, *, pid: int | None = None, ignore_backoff: bool = False) -> CrawlRun:
    """A new running CrawlRun for `spider`, or CrawlAlreadyRunning / CrawlBackingOff (recorded as a
    skipped run). A spider the site blocked waits until its back-off time unless ignore_backoff.

    A running row whose lease has expired (its process stopped renewing it) is marked abandoned
    first, so a crashed crawl cannot block the spider for longer than one lease.
    """
    now = timezone.now()
    abandoned = CrawlRun.objects.filter(spider=spider, status=CrawlRun.Status.RUNNING,
                                        lease_expires_at__lt=now).update(
        status=CrawlRun.Status.ABANDONED, finished_at=now,
        message="abandoned: its lock lease expired without a heartbeat (the crawl process died?)")
    if abandoned:
        log.warning("%s: marked %d stale run(s) abandoned", spider, abandoned)
    blocked = None if ignore_backoff else backing_off(spider)
    if blocked is not None:
        error = CrawlBackingOff(spider, blocked)
        CrawlRun.objects.create(spider=spider, status=CrawlRun.Status.SKIPPED, finished_at=now,
                                finish_reason="backing_off", message=str(error),
                                host=socket.gethostname()[:255], pid=pid or os.getpid())
        raise error
    try:
        with transaction.atomic():
            return CrawlRun.objects.create(spider=spider, status=CrawlRun.Status.RUNNING,
                                           lease_expires_at=now + lock_lease(), host=socket.gethostname()[:255],
                                           pid=pid or os.getpid())
    except IntegrityError:
        holder = CrawlRun.objects.filter(spider=spider, status=CrawlRun.Status.RUNNING).first()
        error = CrawlAlreadyRunning(spider, holder)
        CrawlRun.objects.create(spider=spider, status=CrawlRun.Status.SKIPPED, finished_at=now,
                                finish_reason="already_running", message=str(error),
                                host=socket.gethostname()[:255], pid=pid or os.getpid())
        raise error from None


def heartbeat(run_id: int) -> bool:
    """Renew a running run's lease; False if it is no longer running (e.g. marked abandoned)."""
    return bool(CrawlRun.objects.filter(pk=run_id, status=CrawlRun.Status.RUNNING).update(
        lease_expires_at=timezone.now() + lock_lease()))


def finish_run(run_id: int, *, reason: str, stats: dict, disabled_reason: str = "",
               progress: dict | None = None) -> CrawlRun | None:
    """Record a run's end from the Scrapy stats (called by the crawl process's extension).

    A spider the site blocked sets ``mien/blocked`` (how) and ``mien/backoff_seconds``: the run
    fails with that reason and records when the spider may run again. `progress` is the spider's
    resume point (empty when there is nothing left to resume).
    """
    counts = {
        "items_scraped": stats.get("item_scraped_count", 0),
        "items_new": stats.get("mien/ingest/created", 0),
        "items_updated": stats.get("mien/ingest/updated", 0),
        "items_merged": stats.get("mien/ingest/merged", 0),
        "items_dropped": stats.get("mien/dropped", 0),
        "errors": stats.get("log_count/ERROR", 0),
    }
    backoff_until = None
    if stats.get("mien/blocked"):
        backoff_until = timezone.now() + timedelta(seconds=float(stats.get("mien/backoff_seconds") or 0))
        status = CrawlRun.Status.FAILED
        message = (f"blocked by the site: {stats['mien/blocked']}. The run stopped at once; scheduled runs "
                   f"of this spider are skipped until {backoff_until:%Y-%m-%d %H:%M} UTC.")
    elif disabled_reason:
        status, message = CrawlRun.Status.SKIPPED, disabled_reason
    elif (reason in FINISHED_REASONS or reason.startswith("closespider_")) and (
            counts["items_scraped"] or not counts["errors"]):
        status, message = CrawlRun.Status.FINISHED, ""
    elif reason in FINISHED_REASONS or reason.startswith("closespider_"):
        status, message = CrawlRun.Status.FAILED, "nothing was crawled: every request failed (see the errors)"
    else:
        status = CrawlRun.Status.FAILED
        message = stats.get("mien/jamendo/api_error") or f"the crawl stopped: {reason}"
    problems = sorted((k.split("/", 2)[2], v) for k, v in stats.items()
                      if k.startswith(("mien/dropped/", "mien/bad_response/")) and v)
    summary = (f"{counts['items_scraped']} scraped, {counts['items_new']} new, {counts['items_updated']} updated, "
               f"{counts['items_merged']} merged, {counts['items_dropped']} dropped, {counts['errors']} errors")
    if problems:
        summary += "; problems: " + ", ".join(f"{k} x{v}" for k, v in problems)
    message = f"{message}\n{summary}".strip()
    CrawlRun.objects.filter(pk=run_id).update(
        status=status, finished_at=timezone.now(), lease_expires_at=None, finish_reason=reason[:64],
        message=message, stats=_jsonable(stats), backoff_until=backoff_until, progress=progress or {}, **counts)
    return CrawlRun.objects.filter(pk=run_id).first()


def resume_point(spider: str) -> dict:
    """Where the spider's last run stopped (its saved progress), or {} to start afresh."""
    last = (CrawlRun.objects.filter(spider=spider).exclude(status__in=[CrawlRun.Status.SKIPPED,
                                                                        CrawlRun.Status.RUNNING])
            .order_by("-started_at", "-id").values_list("progress", flat=True).first())
    return last or {}


def _jsonable(stats: dict) -> dict:
    out = {}
    for key, value in stats.items():
        out[key] = value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
    return out


# --- running a spider in its own process -----------------------------------------------------------
def child_database_url() -> str:
    """DATABASE_URL for the crawl process: the database this process uses now (the test database too)."""
    db = connections["default"].settings_dict
    vendor = connections["default"].vendor
    if vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise ImproperlyConfigured("an in-memory SQLite database cannot be shared with a crawl process")
        return f"sqlite:///{Path(name).resolve()}"
    url = os.environ.get("DATABASE_URL", "")
    if url:  # same server and credentials; the database name may differ (a test database)
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path="/" + quote(str(db["NAME"]))))
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    scheme = {"postgresql": "postgres", "mysql": "mysql"}.get(vendor, vendor)
    return f"{scheme}://{user}{password}@{db.get('HOST') or 'localhost'}{port}/{quote(str(db['NAME']))}"


def crawl_command(spider: str, run_id: int, max_items: int | None = None,
                  overrides: dict | None = None, spider_args: dict | None = None) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"CRAWL_RUN_ID={run_id}"]
    if max_items:  # each spider limits its own songs (netease's lyrics come as extra items)
        command += ["-a", f"max_items={int(max_items)}"]
    for key, value in (overrides or {}).items():
        command += ["-s", f"{key}={value}"]
    for key, value in (spider_args or {}).items():
        command += ["-a", f"{key}={value}"]
    return command


def run_spider(spider: str, *, max_items: int | None = None, timeout: float | None = None,
               overrides: dict | None = None, spider_args: dict | None = None, env: dict | None = None,
               output=None, ignore_backoff: bool = False) -> CrawlRun:
    """Crawl with one spider in a child process and return its CrawlRun (CrawlNotStarted if locked or
    backing off after a block).

    overrides: Scrapy settings (``-s``); spider_args: spider arguments (``-a``); env: extra
    environment for the child; output: a text stream the child's log is copied to (default stderr).
    """
    if spider not in SPIDERS:
        raise ValueError(f"unknown spider {spider!r}; choose from {', '.join(SPIDERS)}")
    timeout = timeout or getattr(settings, "MIEN_CRAWL_TIMEOUT", 4 * 3600)
    run = start_run(spider, ignore_backoff=ignore_backoff)
    child_env = dict(os.environ, SCRAPY_SETTINGS_MODULE="crawler.settings",
                     DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "webapp.settings"),
                     PYTHONUNBUFFERED="1", **(env or {}))
    try:
        child_env["DATABASE_URL"] = child_database_url()
        command = crawl_command(spider, run.pk, max_items, overrides, spider_args)
        log.info("%s: starting run #%d: %s", spider, run.pk, " ".join(command))
        process = subprocess.Popen(command, cwd=REPO, env=child_env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, errors="replace")
    except Exception as exc:
        _close_unfinished(run.pk, f"the crawl process could not start: {exc}")
        raise
    CrawlRun.objects.filter(pk=run.pk).update(pid=process.pid)  # the process doing the crawl
    tail: collections.deque[str] = collections.deque(maxlen=30)
    relay = threading.Thread(target=_relay, args=(process.stderr, tail, output or sys.stderr), daemon=True)
    relay.start()
    deadline = time.monotonic() + timeout
    beat = max(1.0, lock_lease().total_seconds() / 5)
    try:
        while True:
            try:
                process.wait(timeout=min(beat, max(0.1, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                heartbeat(run.pk)
                if time.monotonic() >= deadline:
                    log.error("%s: run #%d exceeded %ss; stopping it", spider, run.pk, timeout)
                    _stop(process)
                    break
    finally:
        # Also when interrupted (a Celery time limit, Ctrl-C): stop the child, and never leave the
        # run (and so the lock) behind as running.
        if process.poll() is None:
            _stop(process)
        relay.join(timeout=5)
        _close_unfinished(run.pk, f"the crawl process exited with code {process.returncode} before recording "
                                  f"its end; last log lines:\n" + "".join(tail))
        connections.close_all()  # the child wrote; do not keep a long-idle connection around
    run.refresh_from_db()
    if run.items_new or run.items_updated or run.items_merged:
        # The child bumped its own cache; with a per-process cache (no REDIS_URL) this process's
        # playlists would not notice.
        from .library_version import bump_library_version

        bump_library_version()
    return run


def _relay(stream, tail, output):
    for line in stream:
        tail.append(line)
        try:
            output.write(line)
            output.flush()
        except (ValueError, OSError):  # a closed output must not stop the draining
            pass


def _stop(process: subprocess.Popen) -> None:
    process.terminate()  # Scrapy closes gracefully on SIGTERM (pipelines flush, the run is recorded)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _close_unfinished(run_id: int, message: str) -> None:
    CrawlRun.objects.filter(pk=run_id, status=CrawlRun.Status.RUNNING).update(
        status=CrawlRun.Status.FAILED, finished_at=timezone.now(), lease_expires_at=None,
        finish_reason="process_failed", message=message[-4000:])


def songs_with_lyrics(source: str, external_ids) -> set[str]:
    """Which of these songs the library already has lyrics (or their features) for: not asked again."""
    from django.db.models import Q

    from .models import Song

    return set(Song.objects.filter(source=source, external_id__in=list(external_ids))
               .filter(Q(lyrics_sha1__gt="") | Q(lyrics__gt="")).values_list("external_id", flat=True))


def songs_missing_lyrics(limit: int) -> list[dict]:
    """Library songs whose lyrics were never found, most popular first: the lyrics spider's work list.

    Songs labelled from their lyrics are done even when the lyrics were dropped (their features stay);
    a lookup that found nothing is retried after MIEN_LYRICS_RECHECK_DAYS."""
    from django.db.models import Q

    from .models import Song

    recheck = timezone.now() - timedelta(days=getattr(settings, "MIEN_LYRICS_RECHECK_DAYS", 90))
    rows = (Song.objects.active().filter(lyrics="", lyrics_sha1="")
            .filter(Q(lyrics_checked_at__isnull=True) | Q(lyrics_checked_at__lt=recheck))
            .order_by("-popularity", "id")
            .values("source", "external_id", "title", "artist", "duration")[:limit])
    return list(rows)


# --- the periodic task ---------------------------------------------------------------------------
@shared_task(name="recommender.tasks.crawl_all", acks_late=False, ignore_result=False,
             soft_time_limit=getattr(settings, "MIEN_CRAWL_TASK_TIME_LIMIT", 12 * 3600),
             time_limit=getattr(settings, "MIEN_CRAWL_TASK_TIME_LIMIT", 12 * 3600) + 120)
def crawl_all(spiders: list[str] | None = None, max_items: int | None = None) -> dict[str, str]:
    """Run each spider in turn, each in its own process; a spider already running is skipped.

    Not acks_late: a crawl outlives the broker's visibility timeout, and a redelivered crawl would
    only run again. The per-spider lock keeps overlapping beats harmless.
    """
    outcome = {}
    for spider in spiders or getattr(settings, "MIEN_CRAWL_SPIDERS", SPIDERS):
        try:
            run = run_spider(spider, max_items=max_items)
        except CrawlNotStarted as exc:
            log.warning("%s", exc)
            outcome[spider] = CrawlRun.Status.SKIPPED.value
        except Exception:
            log.exception("%s: the crawl could not run", spider)
            outcome[spider] = CrawlRun.Status.FAILED.value
        else:
            log.info("%s: run #%s %s: %s", spider, run.pk, run.status, " ".join(run.message.splitlines()[-1:]))
            outcome[spider] = run.status
    return outcome
