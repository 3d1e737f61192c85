"""GET /api/recognitions/<id>?wait=N: answers as soon as the job ends, times out cleanly, is bounded.

The wake-up goes through the real Redis (MIEN_TEST_REDIS_URL); the job's ending is the task's own
``finish`` run in another thread, on its own database connection.
"""

import threading
import time

import pytest
from django.urls import reverse

from recommender.models import Recognition
from tests.conftest import skip_or_fail
from tests.integration.workers import REDIS_URL
from webapp import recognition_wait

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_redis():
    """The suite's Redis database (MIEN_TEST_REDIS_URL); only publish/subscribe is used."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def person(client, django_user_model):
    user = django_user_model.objects.create_user("waiter", password="a long enough password 1")
    client.force_login(user)
    return user


@pytest.fixture
def pending(person):
    return Recognition.objects.create(user=person)


def url(recognition, wait=None):
    base = reverse("api:recognition", args=[recognition.id])
    return base if wait is None else f"{base}?wait={wait}"


def finish_later(recognition_id, seconds: float) -> threading.Thread:
    def run():
        from django.db import connection

        from webapp.tasks import finish

        time.sleep(seconds)
        try:
            finish(Recognition.objects.get(pk=recognition_id), error="No face found in the photo.")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_it_answers_as_soon_as_the_job_ends(client, pending, settings, shared_redis, monkeypatch):
    settings.REDIS_URL = REDIS_URL
    # Database re-reads far apart: only the worker's announcement can end the wait early.
    monkeypatch.setattr(recognition_wait, "RECHECK_SECONDS", 60.0)
    thread = finish_later(pending.id, 0.5)
    started = time.monotonic()
    body = client.get(url(pending, wait=15)).json()
    elapsed = time.monotonic() - started
    thread.join()
    assert body["status"] == "failed" and body["error"]
    assert 0.4 < elapsed < 5, elapsed  # woken by the announcement, not by the 15 s bound


def test_it_notices_the_end_without_redis(client, pending, settings, monkeypatch):
    settings.REDIS_URL = ""  # e.g. Redis down: the database re-reads still answer
    monkeypatch.setattr(recognition_wait, "RECHECK_SECONDS", 0.2)
    thread = finish_later(pending.id, 0.3)
    started = time.monotonic()
    body = client.get(url(pending, wait=10)).json()
    thread.join()
    assert body["status"] == "failed"
    assert time.monotonic() - started < 5


def test_it_times_out_cleanly_with_the_pending_recognition(client, pending, settings, shared_redis):
    settings.REDIS_URL = REDIS_URL
    started = time.monotonic()
    response = client.get(url(pending, wait=1.5))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert 1.4 < elapsed < 4, elapsed


def test_a_finished_recognition_is_answered_without_waiting(client, pending):
    Recognition.objects.filter(pk=pending.pk).update(status="done", emotion="happy")
    started = time.monotonic()
    assert client.get(url(pending, wait=20)).json()["status"] == "done"
    assert time.monotonic() - started < 1


def test_without_wait_it_answers_at_once(client, pending):
    started = time.monotonic()
    assert client.get(url(pending)).json()["status"] == "pending"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("wait", ["soon", "-1", "nan", "inf"])
def test_a_wait_that_is_not_a_bounded_number_is_refused(client, pending, wait):
    response = client.get(url(pending, wait=wait))
    assert response.status_code == 400
    assert "wait" in response.json()["error"]


def test_the_wait_is_bounded():
    assert recognition_wait.wait_seconds("3600") == recognition_wait.MAX_WAIT_SECONDS
    assert recognition_wait.wait_seconds("2.5") == 2.5
    assert recognition_wait.wait_seconds(None) == 0


def test_someone_elses_recognition_is_not_waited_on(client, pending, django_user_model):
    other = django_user_model.objects.create_user("other", password="a long enough password 2")
    client.force_login(other)
    started = time.monotonic()
    assert client.get(url(pending, wait=10)).status_code == 404
    assert time.monotonic() - started < 1
