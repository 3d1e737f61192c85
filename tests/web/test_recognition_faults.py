"""A recognition's faults without a real worker: the broker down, redeliveries, transient database
errors, time limits, recognitions whose message was lost, and Redis down behind the cache."""

import base64
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from recommender.models import Recognition
from tests.integration.workers import broker, free_port
from webapp.tasks import recognise_and_recommend, sweep_stale_recognitions

pytestmark = pytest.mark.django_db

BUSY = "The service is busy right now: please try again in a moment."
LOST = "Your photo was lost on the way: please snap again."
GAVE_UP = "Something went wrong on our side. Please try again."


def post_photo(client, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("api:recognitions"), {"image": SimpleUploadedFile("me.jpg", data, "image/jpeg")})


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def run_task(recognition, photo: bytes):
    """The job as a worker runs it (retries included), in this process."""
    return recognise_and_recommend.apply(args=(str(recognition.pk), base64.b64encode(photo).decode("ascii")))


def test_it_answers_503_busy_and_fails_the_recognition_when_the_broker_is_down(client, face_photo, owner):
    client.force_login(owner)
    with broker(closed_redis_url()):
        started = time.monotonic()
        response = post_photo(client, face_photo)
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"error": BUSY}
    assert int(response["Retry-After"]) > 0
    assert elapsed < 10, elapsed  # fails fast instead of hanging the request
    recognition = Recognition.objects.get()  # answered, not left pending
    assert (recognition.status, recognition.error) == ("failed", BUSY)
    assert recognition.finished_at is not None
    shown = client.get(reverse("api:recognition", args=[recognition.pk])).json()  # in the person's history
    assert (shown["status"], shown["error"]) == ("failed", BUSY)


def test_redis_down_behind_the_cache_answers_busy_not_500(client, face_photo, owner, settings):
    down = closed_redis_url()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": down}}
    with broker(down):
        assert client.get(reverse("home")).status_code == 200  # the page itself needs no Redis
        snapped = post_photo(client, face_photo)  # the rate limit's counters live in the cache
        login = client.post(reverse("login"), {"username": "owner", "password": "not-the-password"})

    assert snapped.status_code == 503 and snapped.json() == {"error": BUSY}
    assert not Recognition.objects.exists()
    assert login.status_code == 503 and login["Retry-After"]
    assert BUSY in login.content.decode()
    assert login["Content-Type"].startswith("text/html")


def test_a_recognition_already_answered_is_not_redone(face_photo, owner, monkeypatch):
    import recommender.emotion as emotion_core

    def must_not_run(_image):
        raise AssertionError("a finished recognition was recognised again")

    monkeypatch.setattr(emotion_core, "recognize", must_not_run)
    finished = timezone.now() - timedelta(minutes=1)
    done = Recognition.objects.create(user=owner, status="done", emotion="happy", probabilities={"happy": 1.0},
                                      songs=[{"id": 1, "score": 0.9, "why": []}], finished_at=finished)
    failed = Recognition.objects.create(user=owner, status="failed", error="No face found.", finished_at=finished)

    for recognition in (done, failed):
        before = Recognition.objects.values().get(pk=recognition.pk)
        assert run_task(recognition, face_photo).get() == "skipped"
        assert Recognition.objects.values().get(pk=recognition.pk) == before


def test_when_two_deliveries_race_the_first_answer_stands(catalogue, face_photo, owner, monkeypatch):
    import recommender.emotion as emotion_core

    real = emotion_core.recognize
    pending = Recognition.objects.create(user=owner)

    def recognise_while_another_delivery_finishes(image):
        result = real(image)
        Recognition.objects.filter(pk=pending.pk).update(status="failed", error="the other delivery's answer")
        return result

    monkeypatch.setattr(emotion_core, "recognize", recognise_while_another_delivery_finishes)
    assert run_task(pending, face_photo).get() == "skipped"
    pending.refresh_from_db()
    assert (pending.status, pending.error, pending.emotion, pending.songs) == (
        "failed", "the other delivery's answer", "", [])


def test_a_transient_database_error_is_retried_and_the_recognition_completes(catalogue, face_photo, owner,
                                                                            monkeypatch):
    import recommender.playlists as playlists

    real, calls = playlists.playlist_for_recognition, []

    def flaky(recognition, **kwargs):
        calls.append(recognition.pk)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(recognition, **kwargs)

    monkeypatch.setattr(playlists, "playlist_for_recognition", flaky)
    recognition = Recognition.objects.create(user=owner)
    outcome = run_task(recognition, face_photo)

    assert outcome.get() == "done"
    assert len(calls) == 2
    recognition.refresh_from_db()
    assert recognition.status == "done" and len(recognition.songs) >= 10 and recognition.emotion


def test_a_recognition_fails_with_a_reason_when_retries_run_out(face_photo, owner, monkeypatch):
    import recommender.emotion as emotion_core

    calls = []

    def database_gone(_image):
        calls.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(emotion_core, "recognize", database_gone)
    recognition = Recognition.objects.create(user=owner)
    outcome = run_task(recognition, face_photo)

    assert outcome.failed()
    assert len(calls) == recognise_and_recommend.max_retries + 1  # the first try and every retry
    recognition.refresh_from_db()
    assert (recognition.status, recognition.error) == ("failed", GAVE_UP)


def test_a_recognition_past_its_soft_time_limit_fails_with_a_reason(face_photo, owner, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    import recommender.emotion as emotion_core

    def too_slow(_image):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(emotion_core, "recognize", too_slow)
    recognition = Recognition.objects.create(user=owner)
    assert run_task(recognition, face_photo).get() == "failed"
    recognition.refresh_from_db()
    assert recognition.status == "failed" and "took too long" in recognition.error


def test_the_sweeper_fails_only_stale_pending_recognitions_and_the_api_says_why(client, owner, settings):
    settings.MIEN_RECOGNITION_STALE_AFTER = 600
    now = timezone.now()

    def made(ago_seconds, **fields):
        recognition = Recognition.objects.create(user=owner, **fields)
        Recognition.objects.filter(pk=recognition.pk).update(created_at=now - timedelta(seconds=ago_seconds))
        return recognition

    lost = made(601)
    waiting = made(590)  # still within the time a job may take
    done = made(3600, status="done", emotion="sad", finished_at=now)
    untouched = Recognition.objects.values().get(pk=done.pk)

    assert sweep_stale_recognitions() == 1
    assert sweep_stale_recognitions() == 0  # nothing left to sweep

    lost.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", LOST) and lost.finished_at is not None
    assert Recognition.objects.get(pk=waiting.pk).status == "pending"
    assert Recognition.objects.values().get(pk=done.pk) == untouched
    client.force_login(owner)
    shown = client.get(reverse("api:recognition", args=[lost.pk])).json()
    assert (shown["status"], shown["error"]) == ("failed", LOST)


def test_the_beat_runs_the_sweeper_more_often_than_a_recognition_goes_stale(settings):
    from webapp.celery import app

    entry = app.conf.beat_schedule["sweep-stale-recognitions"]
    assert entry["task"] == sweep_stale_recognitions.name and entry["task"] in app.tasks  # a registered task
    assert entry["schedule"].total_seconds() < settings.MIEN_RECOGNITION_STALE_AFTER
