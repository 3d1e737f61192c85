"""Real Celery workers and throwaway Redis servers for the integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.conftest import skip_or_fail

REDIS_URL = os.environ.get("MIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
READY_TIMEOUT = 60


def database_url() -> str:
    """The test database, as a URL a worker process can be given."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("the worker tests need PostgreSQL (set DATABASE_URL)")
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}"


def reset_connections(app):
    """Drop the cached broker connections so the next task is sent with the current settings."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per broker URL, process-wide: going back to a URL used before
    # would hand out a pool whose connections were just closed.
    pools.reset()


@contextmanager
def broker(url: str):
    """Send this process's tasks to `url` instead of running them in-process."""
    from webapp.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    reset_connections(app)
    try:
        yield app
    finally:
        app.conf.update(saved)
        reset_connections(app)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port, keeping nothing on disk: a restart loses
    every queued message, as a crashed or restarted production Redis without persistence would."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            skip_or_fail("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # no shutdown courtesy: a crash
            self.process.wait(timeout=10)
        self.process = None

    def restart(self):
        self.stop()
        self.start()


class Worker:
    """`celery worker` in its own process group, on the test database, logging to a file."""

    def __init__(self, name: str, broker_url: str, log_path: Path, **env):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "w+")
        environment = dict(os.environ, DATABASE_URL=database_url(), REDIS_URL=broker_url,
                           DJANGO_SETTINGS_MODULE="tests.settings", MIEN_TF_THREADS="1",
                           **{k: str(v) for k, v in env.items()})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.integration.hooked_worker", "worker",
             "--concurrency=1", "--pool=prefork", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "-n", f"{name}@%h"],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> Worker:
        deadline = time.monotonic() + timeout
        while " ready." not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {self.name} did not start:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        return self

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def wait_for(client, url, timeout=120):
    """Poll the API until the recognition is no longer pending; its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] != "pending":
            return body
        time.sleep(0.25)
    raise AssertionError(f"recognition still pending after {timeout}s")


def attempts(folder: Path, recognition_id: str) -> list[tuple[int, str, int]]:
    """(pid, worker name, retries) of each attempt at a recognition, from the hooked workers."""
    path = folder / recognition_id
    if not path.exists():
        return []
    lines = path.read_text().split("\n")[:-1]  # whole lines only
    return [(int(pid), name, int(retries)) for pid, name, retries in (line.split() for line in lines)]


def wait_for_attempt(folder: Path, recognition_id: str, timeout: float = 60, workers=()) -> tuple[int, str, int]:
    """The first attempt at a recognition, once a worker process has started it."""
    deadline = time.monotonic() + timeout
    while not (found := attempts(folder, recognition_id)):
        if time.monotonic() > deadline:
            logs = "\n".join(w.output()[-2000:] for w in workers)
            raise AssertionError(f"no worker started recognition {recognition_id}:\n{logs}")
        time.sleep(0.1)
    return found[0]
