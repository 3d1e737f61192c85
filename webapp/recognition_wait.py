"""Long-poll support: the worker announces a finished recognition, a waiting request wakes at once.

``GET /api/recognitions/<id>?wait=N`` holds the request until the recognition is no longer pending,
or N seconds (at most MAX_WAIT_SECONDS) have passed. With Redis (REDIS_URL), the worker publishes the
id on a channel when it writes the outcome and the waiting request wakes on that message; the
database is re-read every RECHECK_SECONDS as well, so a lost message only delays the answer. Without
Redis, tasks run in-process and are finished before anyone can wait, so only the re-read remains.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)

# Bounds how long one request holds a web thread (and stays far below gunicorn's worker timeout).
MAX_WAIT_SECONDS = 20
# A missed message (Redis restarted between subscribe and publish) costs at most this much delay.
RECHECK_SECONDS = 1.0
CHANNEL_PREFIX = "mien:recognition-finished:"

_clients: dict[tuple[int, str], object] = {}
_lock = threading.Lock()


def wait_seconds(raw: str | None) -> float:
    """The ``wait`` query parameter as seconds: absent -> 0; above MAX_WAIT_SECONDS -> the maximum;
    not a finite number >= 0 -> ValueError."""
    if raw is None or raw == "":
        return 0.0
    seconds = float(raw)  # ValueError for text
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"wait must be a number of seconds >= 0, not {raw!r}")
    return min(seconds, float(MAX_WAIT_SECONDS))


def _redis():
    """A client for REDIS_URL (one pool per process), or None when the app runs without Redis."""
    url = settings.REDIS_URL
    if not url:
        return None
    key = (os.getpid(), url)
    client = _clients.get(key)
    if client is None:
        import redis

        with _lock:
            client = _clients.setdefault(key, redis.Redis.from_url(url, socket_connect_timeout=2,
                                                                   socket_timeout=MAX_WAIT_SECONDS + 5))
    return client


def announce_finished(recognition_ids) -> None:
    """Wake the requests waiting on these recognitions. Never raises: waiters re-read the database."""
    client = _redis()
    if client is None:
        return
    try:
        for recognition_id in recognition_ids:
            client.publish(CHANNEL_PREFIX + str(recognition_id), b"1")
    except Exception:  # noqa: BLE001 - a broker hiccup must not fail the job it reports on
        log.warning("could not announce finished recognitions %s", recognition_ids, exc_info=True)


def wait_until_finished(recognition_id, seconds: float, is_pending) -> None:
    """Return once ``is_pending()`` is false, or after ``seconds``. Subscribes before the first check,
    so an outcome written in between is not missed."""
    deadline = time.monotonic() + seconds
    client = _redis()
    pubsub = None
    if client is not None:
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL_PREFIX + str(recognition_id))
        except Exception:  # noqa: BLE001 - without Redis the database re-reads still answer
            log.warning("long-poll without Redis for %s", recognition_id, exc_info=True)
            pubsub = None
    try:
        while is_pending():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            pause = min(remaining, RECHECK_SECONDS)
            if pubsub is None:
                time.sleep(pause)
                continue
            try:
                pubsub.get_message(timeout=pause)
            except Exception:  # noqa: BLE001
                log.warning("long-poll lost Redis for %s", recognition_id, exc_info=True)
                pubsub = None
    finally:
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001
                pass
