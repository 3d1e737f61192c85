"""Celery tasks of the song library (discovered by name: recommender.tasks.*)."""

from .crawling import crawl_all  # noqa: F401
from .retraining import retrain_song_classifier  # noqa: F401
