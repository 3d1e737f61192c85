"""Long-poll support: the worker announces a finished recognition, a waiting request wakes at once.

``GET /api/recognitions/<id>?wait=N`` holds the request until the recognition is no longer pending,
or N seconds (at most MAX_WAIT_SECONDS) have passed. With Redis (REDIS_URL), the worker publishes the
id on a channel when it writes the outcome; each web process keeps ONE subscription to every such
channel (a listener thread), which wakes the requests waiting on that id: no Redis connection is
opened per request. The database is re-read every RECHECK_SECONDS as well, so a lost message (Redis
restarted, the listener reconnecting) only delays the answer. Without Redis, tasks run in-process
and are finished before anyone can wait, so only the re-read remains.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from contextlib import contextmanager

from django.conf import settings

log = logging.getLogger(__name__)

# Bounds how long one request holds a web thread (and stays far below gunicorn's worker timeout).
MAX_WAIT_SECONDS = 20
# A missed message (Redis restarted between subscribe and publish) costs at most this much delay.
RECHECK_SECONDS = 1.0
CHANNEL_PREFIX = "mien:recognition-finished:"
# How long a request waits for its process's listener to be subscribed, the first time.
LISTENER_START_SECONDS = 1.0

_clients: dict[tuple[int, str], object] = {}
_listeners: dict[tuple[int, str], Listener] = {}
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


class Listener:
    """This process's subscription to every recognition's channel, on a daemon thread: sets the
    events of the requests waiting on the id a message names; reconnects after a lost connection."""

    def __init__(self, client):
        self.client = client
        self.subscribed = threading.Event()
        self.started = threading.Event()  # subscribed at least once (set for good)
        self.created = time.monotonic()
        self._waiting: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name="mien-long-poll-listener", daemon=True).start()

    def add(self, recognition_id: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._waiting.setdefault(recognition_id, set()).add(event)
        return event

    def discard(self, recognition_id: str, event: threading.Event) -> None:
        with self._lock:
            events = self._waiting.get(recognition_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[recognition_id]

    def _wake(self, channel) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("ascii", "replace")
        with self._lock:
            events = list(self._waiting.get(channel[len(CHANNEL_PREFIX):], ()))
        for event in events:
            event.set()

    def _run(self) -> None:
        failing = False
        while True:
            pubsub = None
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PREFIX + "*")
                timeout = LISTENER_START_SECONDS  # the first reply read is the confirmation
                while True:
                    message = pubsub.get_message(timeout=timeout)
                    if not self.subscribed.is_set():
                        self.subscribed.set()
                        self.started.set()
                        failing = False
                        timeout = 5.0
                    if message is not None and message.get("type") == "pmessage":
                        self._wake(message["channel"])
            except Exception:  # noqa: BLE001 - waiters fall back to the database re-reads meanwhile
                if not failing:  # once an outage, not every retry
                    log.warning("long-poll listener lost Redis; reconnecting", exc_info=True)
                failing = True
                self.subscribed.clear()
                time.sleep(RECHECK_SECONDS)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass


def _listener() -> Listener | None:
    client = _redis()
    if client is None:
        return None
    key = (os.getpid(), settings.REDIS_URL)  # a forked process starts its own
    listener = _listeners.get(key)
    if listener is None:
        with _lock:
            listener = _listeners.get(key)
            if listener is None:
                listener = _listeners[key] = Listener(client)
    return listener


class Waiter:
    def __init__(self, event: threading.Event | None):
        self.event = event

    def wait(self, seconds: float, reread):
        """Re-read (``reread()``: the recognition, or None once it is gone) whenever woken and at
        least every RECHECK_SECONDS, until it is no longer pending or ``seconds`` have passed; the
        last row read."""
        deadline = time.monotonic() + seconds
        while True:
            pause = min(max(deadline - time.monotonic(), 0.0), RECHECK_SECONDS)
            if self.event is None:
                time.sleep(pause)
            else:
                self.event.wait(pause)
                self.event.clear()
            row = reread()
            if row is None or row.status != "pending" or time.monotonic() >= deadline:
                return row


@contextmanager
def listening(recognition_id):
    """Listen for this recognition's announcement from now on (before reading its row, so an outcome
    written in between is not missed); yields a Waiter. ``recognition_id`` None: a Waiter that only
    re-reads (a request that does not wait)."""
    listener = _listener() if recognition_id is not None else None
    if listener is None:
        yield Waiter(None)
        return
    if not listener.started.is_set():  # the process's first long-polls: give it a moment to subscribe
        listener.started.wait(max(0.0, listener.created + LISTENER_START_SECONDS - time.monotonic()))
    key = str(recognition_id)
    event = listener.add(key)
    try:
        yield Waiter(event)
    finally:
        listener.discard(key, event)
