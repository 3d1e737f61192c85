"""Celery tasks of the song library (discovered by name: recommender.tasks.*)."""

from .crawling import crawl_all  # noqa: F401
