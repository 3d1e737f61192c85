"""A bounded load run on 127.0.0.1: gunicorn + 2 Celery workers on PostgreSQL and Redis.

CLIENTS concurrent clients each post the astronaut photo to POST /api/recognitions and wait for it
with the long-poll the page uses (GET .../<id>?wait=10), again and again for DURATION seconds; then
the run waits (at most DRAIN seconds) for what is still pending. Records throughput, median and p95
round trip, the error rate, HTTP requests per finished recognition, whether every submitted
recognition finished (none left pending in the database), and how the throughput compares with the
single-process bound: cores / CPU seconds of one recognize() (measured in a fresh process in the
same run), so the figure means something on another machine. It also counts the CPU time spent
during the run per finished recognition by each party (bench/load_cpu.py): the gunicorn and Celery
process trees, the PostgreSQL backends of the run's database, the Redis server (the whole server:
shared with whatever else uses it) and the load generator itself (this process: the clients share
the cores with the stack). CPU time is far less sensitive to a busy machine than throughput.
Everything runs on a database and a Redis db of its own (MIEN_LOAD_DATABASE_URL, MIEN_LOAD_REDIS_URL;
created, migrated, catalogue imported; dropped and flushed at the end, so they must not be the
ones the app or the tests use). The machine's load average before and after is recorded: on a
shared machine the figures are a floor. Progress goes to stderr; the last line is a summary.

    python -c "from bench.bench_load import run; print(run())"
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import load_cpu

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("MIEN_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mien_load")
REDIS_URL = os.environ.get("MIEN_LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
WAIT_SECONDS = 10  # the long-poll, as static/js/camera.js
REQUEST_TIMEOUT = 30
START_TIMEOUT = 180


def check_urls_are_its_own() -> None:
    """The run drops its database and flushes its Redis db: refuse ones the app or the tests use."""
    others = {os.environ.get(name) for name in ("DATABASE_URL", "REDIS_URL", "MIEN_TEST_REDIS_URL")} - {None, ""}
    for url in (DATABASE_URL, REDIS_URL):
        if url in others:
            raise RuntimeError(f"{url} is also the app's or the tests' URL: set MIEN_LOAD_DATABASE_URL and "
                               "MIEN_LOAD_REDIS_URL to a database and a Redis db of the load run's own")


def progress(message: str) -> None:
    print(f"[bench_load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def environment() -> dict:
    return dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=DATABASE_URL,
                REDIS_URL=REDIS_URL, DEBUG="0", ALLOWED_HOSTS="127.0.0.1", MIEN_TF_THREADS="1",
                # The load is one address and a few sessions: lift the per-person and per-address limits.
                MIEN_SNAPSHOT_RATE="100000/m", MIEN_SNAPSHOT_IP_RATE="100000/m", LOG_LEVEL="WARNING",
                PYTHONPATH=str(ROOT))


def create_database(env: dict) -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    for command in (["migrate", "--no-input", "-v", "0"], ["import_catalogue"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=START_TIMEOUT)


def drop_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_until(check, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout}s")
        time.sleep(0.5)


class Client(threading.Thread):
    """One person snapping again and again until the deadline, each snapshot polled to the end."""

    def __init__(self, base: str, photo: bytes, stop_submitting: float, give_up: float, limit: int | None = None):
        super().__init__(daemon=True)
        self.base, self.photo, self.limit = base, photo, limit
        self.stop_submitting, self.give_up = stop_submitting, give_up
        self.round_trips: list[float] = []
        self.accepted: list[str] = []
        self.done = self.failed = self.http_errors = self.unfinished = 0
        self.requests = 0  # every HTTP request made for the snapshots (POSTs and waits)
        self.error_kinds: dict[str, int] = {}

    def error(self, kind: str) -> None:
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def run(self):
        import requests

        session = requests.Session()
        session.get(self.base + "/", timeout=REQUEST_TIMEOUT).raise_for_status()  # the CSRF cookie
        headers = {"X-CSRFToken": session.cookies.get("csrftoken"), "Referer": self.base + "/"}
        tries = 0
        while time.monotonic() < self.stop_submitting and (self.limit is None or tries < self.limit):
            tries += 1
            started = time.monotonic()
            self.requests += 1
            try:
                posted = session.post(self.base + "/api/recognitions", headers=headers, timeout=REQUEST_TIMEOUT,
                                      files={"image": ("me.jpg", self.photo, "image/jpeg")})
            except requests.RequestException as exc:
                self.http_errors += 1
                self.error(type(exc).__name__)
                continue
            if posted.status_code != 202:
                self.http_errors += 1
                self.error(f"POST {posted.status_code}")
                continue
            self.accepted.append(posted.json()["id"])
            status = self.poll(session, posted.json()["url"])
            if status == "done":
                self.done += 1
                self.round_trips.append(time.monotonic() - started)
            elif status == "failed":
                self.failed += 1
                self.error("recognition failed")
            else:
                self.unfinished += 1

    def poll(self, session, url: str) -> str:
        import requests

        while time.monotonic() < self.give_up:
            self.requests += 1
            try:
                response = session.get(self.base + url, params={"wait": WAIT_SECONDS},
                                       timeout=WAIT_SECONDS + REQUEST_TIMEOUT)
            except requests.RequestException as exc:
                self.error(f"poll {type(exc).__name__}")
                time.sleep(0.3)
                continue
            if response.status_code != 200:
                self.error(f"poll {response.status_code}")
                time.sleep(0.3)
                continue
            status = response.json()["status"]
            if status != "pending":
                return status
        return "pending"


def photo() -> bytes:
    from bench.roundtrip import photo as astronaut

    return astronaut()


def database_statuses(env: dict) -> dict[str, int]:
    code = ("import django, json; django.setup(); from django.db.models import Count; "
            "from recommender.models import Recognition; "
            "print(json.dumps(dict(Recognition.objects.values_list('status').annotate(n=Count('pk')))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True, timeout=60).stdout
    import json

    return json.loads(out.strip().splitlines()[-1])


def recognize_cpu_ms() -> float:
    """Median CPU ms of one recognize() of the load's photo, in a fresh one-thread process."""
    from bench.common import run_child

    code = ("import json; from bench.bench_face_path import medians_ms; from bench.roundtrip import photo; "
            "from recommender.emotion import recognize; p = photo(); "
            "print('RESULT ' + json.dumps(medians_ms(lambda: recognize(p))[1]))")
    return float(run_child(code, env=dict(os.environ, MIEN_TF_THREADS="1")))


def gunicorn_args(port: int, web_workers: int, web_threads: int) -> list[str]:
    # The rest (gthread, preloaded, recycled every ~1000 requests) from gunicorn.conf.py, as `make serve`.
    return [sys.executable, "-m", "gunicorn", "webapp.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(web_workers), "--threads", str(web_threads)]


def celery_args(n: int) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--concurrency=1", "--pool=prefork",
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"load{n}@%h"]


def crowd_progress(crowd: list[Client], started: float, stop: threading.Event, every: float = 10.0) -> None:
    while not stop.wait(every):
        done = sum(c.done for c in crowd)
        progress(f"{time.monotonic() - started:5.0f} s: {done} done, {sum(c.failed for c in crowd)} failed, "
                 f"{sum(c.http_errors for c in crowd)} HTTP errors")


def run(clients: int = 20, duration: float = 60.0, drain: float = 120.0, web_workers: int = 2,
        web_threads: int = 16, celery_workers: int = 2) -> dict:
    """web_threads: a waiting long-poll holds a thread, so workers x threads must exceed clients."""
    check_urls_are_its_own()
    env = environment()
    progress("measuring recognize() alone in a fresh process")
    cpu_ms = recognize_cpu_ms()
    load_before = os.getloadavg()
    processes: list[subprocess.Popen] = []
    logs = Path(tempfile.mkdtemp(prefix="mien-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    progress(f"creating {DATABASE_URL.rsplit('/', 1)[1]} (migrate, catalogue); Redis {REDIS_URL}")
    flush_redis()
    create_database(env)
    try:
        processes.append(start(gunicorn_args(port, web_workers, web_threads), env, logs / "gunicorn.log"))
        for n in range(celery_workers):
            processes.append(start(celery_args(n), env, logs / f"celery{n}.log"))
        import requests

        def web_up():
            try:
                return requests.get(base + "/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(web_up, "gunicorn")
        for n in range(celery_workers):
            wait_until(lambda n=n: " ready." in (logs / f"celery{n}.log").read_text(errors="replace"),
                       f"celery worker {n}")
        image = photo()
        # One snapshot first, so each worker's model is loaded before the clock starts.
        warm = [Client(base, image, time.monotonic() + START_TIMEOUT, time.monotonic() + START_TIMEOUT, limit=1)
                for _ in range(celery_workers)]
        for client in warm:
            client.start()
        for client in warm:
            client.join()
        if sum(c.done for c in warm) != celery_workers:
            raise RuntimeError(f"warm-up snapshots did not finish: {[c.error_kinds for c in warm]} (logs in {logs})")
        warm_ids = {i for c in warm for i in c.accepted}

        web_group, worker_groups = {processes[0].pid}, {p.pid for p in processes[1:]}  # each a session of its own
        tally = load_cpu.Tally({"web": load_cpu.in_groups(web_group), "workers": load_cpu.in_groups(worker_groups),
                                "postgres": load_cpu.postgres_backends(DATABASE_URL.rsplit("/", 1)[1]),
                                "redis": load_cpu.named("redis-server")})
        generator_before = time.process_time()  # this process: the clients' threads
        progress(f"{clients} clients for {duration:.0f} s (then at most {drain:.0f} s for the last answers)")
        started = time.monotonic()
        crowd = [Client(base, image, started + duration, started + duration + drain) for _ in range(clients)]
        ticking = threading.Event()
        threading.Thread(target=crowd_progress, args=(crowd, started, ticking), daemon=True).start()
        for client in crowd:
            client.start()
        for client in crowd:
            client.join()
        ticking.set()
        elapsed = time.monotonic() - started
        cpu = tally.seconds()
        cpu["load_generator"] = time.process_time() - generator_before
        load_after = os.getloadavg()
        statuses = database_statuses(env)
    finally:
        for process in processes:
            stop(process)
        flush_redis()
        drop_database()

    trips = [t for c in crowd for t in c.round_trips]
    accepted = sum(len(c.accepted) for c in crowd)
    attempts = accepted + sum(c.http_errors for c in crowd)
    done = sum(c.done for c in crowd)
    failed = sum(c.failed for c in crowd)
    unfinished = sum(c.unfinished for c in crowd)
    kinds: dict[str, int] = {}
    for client in crowd:
        for kind, n in client.error_kinds.items():
            kinds[kind] = kinds.get(kind, 0) + n
    in_database = sum(statuses.values()) - len(warm_ids)
    throughput = done / elapsed
    bound = (os.cpu_count() or 1) / (cpu_ms / 1000)

    def per_recognition(seconds: float) -> float | None:
        return round(seconds / done * 1000, 1) if done else None

    result = {
        "clients": clients,
        "duration_s": duration,
        "web": f"gunicorn {web_workers} workers x {web_threads} threads",
        "celery_workers": celery_workers,
        "submitted": attempts,
        "accepted_202": accepted,
        "done": done,
        "failed": failed,
        "http_errors": sum(c.http_errors for c in crowd),
        "error_rate": round((attempts - done) / attempts, 4) if attempts else None,
        "errors_by_kind": kinds or "none",
        "throughput_per_s": round(throughput, 2),
        "requests_per_finished_recognition": round(sum(c.requests for c in crowd) / done, 2) if done else None,
        "recognize_cpu_ms_one_thread": round(cpu_ms, 2),
        "single_process_bound_per_s": round(bound, 1),
        "throughput_over_bound": round(throughput / bound, 3),
        "web_and_worker_cpu_ms_per_recognition": per_recognition(cpu["web"] + cpu["workers"]),
        "web_cpu_ms_per_recognition": per_recognition(cpu["web"]),
        "worker_cpu_ms_per_recognition": per_recognition(cpu["workers"]),
        "postgres_cpu_ms_per_recognition": per_recognition(cpu["postgres"]),
        "redis_server_cpu_ms_per_recognition": per_recognition(cpu["redis"]),
        "load_generator_cpu_ms_per_recognition": per_recognition(cpu["load_generator"]),
        "cores": os.cpu_count(),
        "round_trip_median_s": round(statistics.median(trips), 2) if trips else None,
        "round_trip_p95_s": round(percentile(trips, 95), 2) if trips else None,
        "round_trip_max_s": round(max(trips), 2) if trips else None,
        "wall_s": round(elapsed, 1),
        "pending_left_in_db": statuses.get("pending", 0),
        "every_submitted_finished": unfinished == 0 and statuses.get("pending", 0) == 0
                                    and in_database == accepted,
        "load_average_before_1m": round(load_before[0], 2),
        "load_average_after_1m": round(load_after[0], 2),
    }
    progress(summary(result))
    return result


def summary(result: dict) -> str:
    return (f"{result['throughput_per_s']} recognitions/s, round trip median {result['round_trip_median_s']} s "
            f"p95 {result['round_trip_p95_s']} s, {result['failed']} failed, {result['http_errors']} HTTP errors, "
            f"every submitted finished: {result['every_submitted_finished']}; CPU ms per recognition: "
            f"web {result['web_cpu_ms_per_recognition']} + workers {result['worker_cpu_ms_per_recognition']}, "
            f"PostgreSQL {result['postgres_cpu_ms_per_recognition']}, "
            f"Redis {result['redis_server_cpu_ms_per_recognition']}"
            f" (whole server), load generator {result['load_generator_cpu_ms_per_recognition']}; "
            f"load average {result['load_average_before_1m']} -> {result['load_average_after_1m']}")


if __name__ == "__main__":
    print(run())
