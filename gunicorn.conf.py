"""gunicorn's settings, read from the working directory by `make serve` and by the load benchmark
(bench/bench_load.py), so the benchmark measures what production runs. The command line
(GUNICORN_ARGS, WEB_CONCURRENCY for the worker count) adds to or overrides them."""

import os

# Threads, not sync workers: a long-poll (GET /api/recognitions/<id>?wait=N) holds its thread while it
# waits, so workers x threads bounds how many pages can wait at once (a sync worker would be one).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
timeout = 30
graceful_timeout = 20
# Workers are recycled against slow leaks. The app is loaded once in the master and forked, so a
# recycled worker starts ready instead of importing Django again (about 1 s of CPU each time).
max_requests = 1000
max_requests_jitter = 100
preload_app = True
