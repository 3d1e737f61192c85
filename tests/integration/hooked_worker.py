"""The Celery app as test workers run it (`celery -A tests.integration.hooked_worker worker`), with
two hooks the fault tests drive through the worker's environment; unset, they do nothing:

- MIEN_TEST_TASK_STARTED=<folder>: the process about to run a recognition appends a line
  "<pid> <worker name> <retries>" to ``<folder>/<recognition id>``, so a test knows which process
  to kill, and when, and which worker ran each attempt.
- MIEN_TEST_HOLD_SECONDS=<n>: that process waits n seconds first (a slow recognition); on every
  delivery, or only on a task's first delivery with MIEN_TEST_HOLD_FIRST_ONLY=1, or only for the
  first k recognitions the process runs with MIEN_TEST_HOLD_TASKS=k.
"""

import os
import time
from pathlib import Path

from celery.signals import task_prerun

from webapp.celery import app  # noqa: F401 - the app this module serves to `celery -A`

RECOGNITION_TASK = "webapp.tasks.recognise_and_recommend"
_held = 0  # recognitions held so far by this pool process


@task_prerun.connect
def announce_and_hold(task=None, args=None, **_ignored):
    global _held
    if task is None or task.name != RECOGNITION_TASK or not args:
        return
    folder = os.environ.get("MIEN_TEST_TASK_STARTED")
    if folder:
        line = f"{os.getpid()} {task.request.hostname} {task.request.retries}\n".encode()
        fd = os.open(Path(folder) / str(args[0]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)  # one small appended write: a reader never sees half a line
        finally:
            os.close(fd)
    hold = float(os.environ.get("MIEN_TEST_HOLD_SECONDS") or 0)
    first_only = os.environ.get("MIEN_TEST_HOLD_FIRST_ONLY") == "1"
    redelivered = task.request.retries or (task.request.delivery_info or {}).get("redelivered")
    how_many = int(os.environ.get("MIEN_TEST_HOLD_TASKS") or 0)
    if hold and not (first_only and redelivered) and not (how_many and _held >= how_many):
        _held += 1
        time.sleep(hold)
