"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("mien")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_emotion_model(**_):
    # Load the model after the fork, once per worker process: a TF runtime (the fallback when no
    # .tflite matches the weights) initialised in the prefork parent can hang its children, and
    # LiteRT interpreters are per process too.
    from recommender.emotion.predictor import get_predictor

    get_predictor()


@task_prerun.connect
@task_postrun.connect
def recycle_database_connections(task=None, **_):
    """Between tasks, as Django does between requests: drop a connection that broke or passed
    CONN_MAX_AGE (settings.CELERY_DB_REUSE_MAX keeps the rest). Not for an in-process (eager) task:
    it runs inside the caller's request or transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
