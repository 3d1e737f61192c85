"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("mien")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_emotion_model(**_):
    # Load TensorFlow after the fork, once per worker process: a TF runtime initialised in the
    # prefork parent can hang its children.
    from recommender.emotion.predictor import get_predictor

    get_predictor()
