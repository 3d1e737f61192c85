"""A real Celery worker on Redis handles a posted photo end to end, on the test database."""

import os
import signal
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.integration.workers import REDIS_URL, database_url, reset_connections, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker(shared_redis):
    from webapp.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    reset_connections(app)
    yield REDIS_URL
    app.conf.update(saved)
    reset_connections(app)


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
