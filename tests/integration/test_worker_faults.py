"""Faults with real Celery workers on Redis and PostgreSQL: a worker killed mid-recognition, and a
Redis restart mid-stream. Every submitted recognition ends done or failed, never stuck."""

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recommender.models import Recognition
from tests.integration.workers import (RedisServer, Worker, attempts, broker, wait_for,
                                       wait_for_attempt)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        worker.stop()


def snap(client, photo) -> dict:
    response = client.post(reverse("api:recognitions"), {"image": SimpleUploadedFile("me.jpg", photo, "image/jpeg")})
    assert response.status_code == 202, response.content
    return response.json()


def test_a_recognition_whose_worker_process_is_killed_completes_on_another_worker(
        client, catalogue, face_photo, shared_redis, workers, tmp_path):
    # Two workers; whichever takes the photo first holds it (a slow recognition) and is killed
    # mid-task with SIGKILL, as the kernel's OOM killer would. Retries are not held.
    folder = tmp_path / "attempts"
    folder.mkdir()
    hooks = {"MIEN_TEST_TASK_STARTED": folder, "MIEN_TEST_HOLD_SECONDS": 120, "MIEN_TEST_HOLD_FIRST_ONLY": 1}
    workers += [Worker(name, shared_redis, tmp_path / f"{name}.log", **hooks) for name in ("alpha", "beta")]
    for worker in workers:
        worker.wait_ready()
    with broker(shared_redis):
        created = snap(client, face_photo)
        pid, victim, retries = wait_for_attempt(folder, created["id"], workers=workers)
        assert retries == 0
        assert client.get(created["url"]).json()["status"] == "pending"
        os.kill(pid, signal.SIGKILL)  # the pool process running the task, mid-recognition

        result = wait_for(client, created["url"], timeout=60)

    logs = "\n".join(w.output()[-3000:] for w in workers)
    assert result["status"] == "done", logs
    assert result["faces"] == 1 and len(result["songs"]) >= 10
    runs = attempts(folder, created["id"])
    assert len(runs) == 2, runs  # the killed attempt, then exactly one more
    (_, first, _), (_, second, second_retries) = runs
    assert first == victim and second != victim, runs  # finished by the other worker
    assert second_retries == 1
    killed = next(w for w in workers if victim.startswith(f"{w.name}@"))
    assert "WorkerLostError" in killed.output() or "SIGKILL" in killed.output(), killed.output()[-3000:]


def test_a_redis_restart_mid_stream_leaves_no_recognition_pending(
        client, catalogue, face_photo, workers, tmp_path):
    # Our own Redis on its own port, keeping nothing on disk: a restart drops every queued message.
    server = RedisServer(tmp_path).start()
    folder = tmp_path / "attempts"
    folder.mkdir()
    try:
        worker = Worker("solo", server.url, tmp_path / "solo.log",
                        MIEN_TEST_TASK_STARTED=folder, MIEN_TEST_HOLD_SECONDS=8, MIEN_TEST_HOLD_TASKS=1)
        workers.append(worker)
        worker.wait_ready()
        with broker(server.url):
            running = snap(client, face_photo)
            wait_for_attempt(folder, running["id"], workers=workers)  # in flight on the worker
            queued = snap(client, face_photo)  # waits in Redis behind it (one task at a time)
            assert Recognition.objects.get(pk=queued["id"]).status == "pending"

            server.restart()  # the queued message is gone with it

            assert wait_for(client, running["url"], timeout=60)["status"] == "done"
            after = snap(client, face_photo)  # the web and the worker both reconnect
            assert wait_for(client, after["url"], timeout=60)["status"] == "done", worker.output()[-3000:]
            assert attempts(folder, queued["id"]) == []  # never delivered: lost with Redis
            assert client.get(queued["url"]).json()["status"] == "pending"

            # The beat's sweeper (sent through the broker, run by the worker) answers the lost one.
            from webapp.tasks import sweep_stale_recognitions

            sweep_stale_recognitions.delay(0)
            lost = wait_for(client, queued["url"], timeout=30)
    finally:
        server.stop()

    assert lost["status"] == "failed"
    assert lost["error"] == "Your photo was lost on the way: please snap again."
    assert not Recognition.objects.filter(status="pending").exists()
    assert sorted(Recognition.objects.values_list("status", flat=True)) == ["done", "done", "failed"]
