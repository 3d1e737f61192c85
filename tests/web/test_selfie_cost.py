"""What one selfie costs the stack, pinned where it can creep back: the queries of the job and of the
long-poll, one Redis subscription per web process rather than one per request, and a worker that
keeps its database connection between tasks (Celery's Django fixup would open one per task).
The load benchmark (bench/bench_load.py) measures the CPU these add up to."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommender.models import Favourite, Recognition, TypicalSong
from tests.integration.workers import REDIS_URL
from tests.web.test_long_poll import finish_later
from tests.web.test_long_poll import shared_redis as redis_for_long_polls  # noqa: F401 - a fixture
from tests.web.test_recognition_faults import run_task
from webapp import recognition_wait

RECOGNITION_TABLE = Recognition._meta.db_table
PLAYLIST_ROWS = Recognition.playlist_songs.through._meta.db_table


def statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def on_table(sqls, table: str, verb: str = "SELECT") -> list[str]:
    return [s for s in sqls if s.startswith(verb) and f'"{table}"' in s.split(" WHERE ")[0]]


@pytest.mark.django_db
def test_the_job_for_an_anonymous_selfie_runs_five_queries(catalogue, face_photo):
    run_task(Recognition.objects.create(session_key="s" * 32), face_photo)  # the library index is built once
    recognition = Recognition.objects.create(session_key="s" * 32)
    with CaptureQueriesContext(connection) as captured:
        assert run_task(recognition, face_photo).get() == "done"
    sqls = statements(captured)
    # The row; the owner's last playlists (freshness); whether people's saved songs changed (one query
    # for both tables); the outcome (one conditional UPDATE); the playlist's rows for the review queue.
    assert len(sqls) == 5, "\n".join(sqls)
    assert len(on_table(sqls, RECOGNITION_TABLE, "UPDATE")) == 1
    assert len(on_table(sqls, PLAYLIST_ROWS, "INSERT")) == 1
    assert sum(Favourite._meta.db_table in s for s in sqls) == 1
    assert sum(TypicalSong._meta.db_table in s for s in sqls) == 1


@pytest.mark.django_db
def test_the_job_for_a_signed_in_person_adds_only_their_own_songs_and_strategy(catalogue, face_photo, owner):
    run_task(Recognition.objects.create(user=owner), face_photo)
    recognition = Recognition.objects.create(user=owner)
    with CaptureQueriesContext(connection) as captured:
        assert run_task(recognition, face_photo).get() == "done"
    sqls = statements(captured)
    # The five above, with the person read along with the row (a join), plus their strategy,
    # typical songs, favourites and hidden songs: one query each.
    assert len(sqls) == 9, "\n".join(sqls)


@pytest.mark.django_db
def test_a_playlist_the_worker_made_is_counted_by_the_review_queue(catalogue, face_photo, owner):
    recognition = Recognition.objects.create(user=owner)
    assert run_task(recognition, face_photo).get() == "done"
    recognition.refresh_from_db()
    picks = {pick["id"] for pick in recognition.songs}
    assert len(picks) >= 10
    assert set(recognition.playlist_songs.values_list("id", flat=True)) == picks
    # A redelivery of the same job is skipped: no second set of rows.
    assert run_task(recognition, face_photo).get() == "skipped"
    assert recognition.playlist_songs.count() == len(picks)


@pytest.mark.django_db
def test_answering_a_finished_recognition_reads_its_row_once_with_the_correction(catalogue, face_photo, owner,
                                                                                  client):
    recognition = Recognition.objects.create(user=owner)
    run_task(recognition, face_photo)
    client.force_login(owner)
    url = reverse("api:recognition", args=[recognition.id]) + "?wait=10"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).json()
    assert body["status"] == "done" and len(body["songs"]) >= 10 and body["corrected_emotion"] is None
    sqls = statements(captured)
    # The session and the person (authentication), the row with its correction, the songs, their
    # tags, the person's hidden songs.
    assert len(sqls) == 6, "\n".join(sqls)
    assert len(on_table(sqls, RECOGNITION_TABLE)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_reads_the_row_once_more_when_woken(client, owner, settings, redis_for_long_polls, monkeypatch):
    settings.REDIS_URL = REDIS_URL
    monkeypatch.setattr(recognition_wait, "RECHECK_SECONDS", 60.0)  # only the announcement wakes it
    client.force_login(owner)
    pending = Recognition.objects.create(user=owner)
    thread = finish_later(pending.id, 0.5)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(reverse("api:recognition", args=[pending.id]) + "?wait=15").json()
    thread.join()
    assert body["status"] == "failed"
    assert len(on_table(statements(captured), RECOGNITION_TABLE)) == 2  # before the wait, once woken


@pytest.mark.django_db(transaction=True)
def test_a_web_process_subscribes_once_not_once_a_request(client, owner, settings, redis_for_long_polls, monkeypatch):
    import redis.client

    settings.REDIS_URL = REDIS_URL
    calls = []
    for name in ("subscribe", "psubscribe"):
        real = getattr(redis.client.PubSub, name)
        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(redis.client.PubSub, name, counted)
    client.force_login(owner)
    for _ in range(3):
        pending = Recognition.objects.create(user=owner)
        assert client.get(reverse("api:recognition", args=[pending.id]) + "?wait=0.2").json()["status"] == "pending"
    assert "subscribe" not in calls and calls.count("psubscribe") <= 1  # none if an earlier test started it
    listener = recognition_wait._listener()
    assert listener is recognition_wait._listener() and listener.subscribed.is_set()


@pytest.mark.django_db(transaction=True)
def test_it_still_answers_when_announcements_are_lost(client, owner, settings, redis_for_long_polls, monkeypatch):
    settings.REDIS_URL = REDIS_URL
    monkeypatch.setattr(recognition_wait, "RECHECK_SECONDS", 0.2)
    listener = recognition_wait._listener()
    monkeypatch.setattr(listener, "_wake", lambda channel: None)  # as if every announcement were lost
    client.force_login(owner)
    pending = Recognition.objects.create(user=owner)
    thread = finish_later(pending.id, 0.3)
    started = time.monotonic()
    body = client.get(reverse("api:recognition", args=[pending.id]) + "?wait=10").json()
    thread.join()
    assert body["status"] == "failed" and time.monotonic() - started < 5  # the re-reads found it


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks_until_it_breaks():
    from celery.fixups.django import DjangoWorkerFixup

    from webapp.celery import app, recycle_database_connections

    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    raw = connection.connection
    for _ in range(3):  # what runs around each task in a worker: Celery's fixup, then ours
        fixup.on_task_prerun(sender=task)
        recycle_database_connections(task=task)
        assert Recognition.objects.count() == 0
        fixup.on_task_postrun(sender=task)
        recycle_database_connections(task=task)
    assert connection.connection is raw  # the same PostgreSQL connection all along

    raw.close()  # the server went away under it
    with pytest.raises(Exception):
        Recognition.objects.count()
    recycle_database_connections(task=task)  # the next task's start
    assert connection.connection is None  # dropped, so the next query connects afresh
    assert Recognition.objects.count() == 0


def test_an_in_process_task_leaves_the_callers_connection_alone():
    from webapp.celery import recycle_database_connections

    touched = threading.Event()
    original = connection.close_if_unusable_or_obsolete
    try:
        connection.close_if_unusable_or_obsolete = touched.set
        recycle_database_connections(task=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    finally:
        connection.close_if_unusable_or_obsolete = original
    assert not touched.is_set()


@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_a_finished_recognition_is_answered_at_once(client, owner, settings):
    from tests.web.test_recognition_faults import closed_redis_url

    settings.REDIS_URL = closed_redis_url()  # the listener cannot subscribe: it keeps retrying
    client.force_login(owner)
    done = Recognition.objects.create(user=owner, status="done", emotion="happy")
    url = reverse("api:recognition", args=[done.id]) + "?wait=10"
    client.get(url)  # the process's first long-poll may give the listener its moment
    started = time.monotonic()
    for _ in range(3):
        assert client.get(url).json()["status"] == "done"
    assert time.monotonic() - started < 1.5  # no per-request wait for a subscription that never comes
