"""A real Celery worker on Redis handles a posted photo end to end, on the test database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("MIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("the worker test needs PostgreSQL (set DATABASE_URL)")
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}")
    client.flushdb()
    from webapp.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    reset_connections(app)
    yield REDIS_URL
    app.conf.update(saved)
    reset_connections(app)
    client.flushdb()


def reset_connections(app):
    """Drop the cached broker connections so the next task is sent with the current settings."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(redis_broker, tmp_path):
    env = dict(os.environ, DATABASE_URL=database_url(), REDIS_URL=redis_broker,
               DJANGO_SETTINGS_MODULE="tests.settings", MIEN_TF_THREADS="1")
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--concurrency=1", "--pool=prefork",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", "test-worker@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process, log
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def wait_for(client, url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] != "pending":
            return body
        time.sleep(0.25)
    raise AssertionError(f"recognition still pending after {timeout}s")


def test_a_worker_recognises_and_recommends(client, catalogue, face_photo, worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("api:recognitions"),
                           {"image": SimpleUploadedFile("me.jpg", face_photo, "image/jpeg")})
    assert response.status_code == 202
    first = client.get(response.json()["url"]).json()
    assert first["status"] == "pending"  # queued, not run in the web process
    process, log = worker
    try:
        result = wait_for(client, response.json()["url"])
    finally:
        log.seek(0)
        worker_log = log.read()
    assert result["status"] == "done", worker_log[-3000:]
    assert result["faces"] == 1
    assert len(result["songs"]) >= 10
    assert "recognise_and_recommend" in worker_log and "succeeded" in worker_log
