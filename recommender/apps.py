from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_curator_group(sender, using="default", **kwargs):
    """After every migrate, and every flush of a test database (which empties auth_group), the
    `curator` group exists with its permissions. Runs after auth has made this app's permissions:
    auth's handler was connected first."""
    from .curation import curator_group

    curator_group(using=using)


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = _("Song library")

    def ready(self):
        from . import signals  # noqa: F401

        post_migrate.connect(ensure_curator_group, sender=self, dispatch_uid="recommender.ensure_curator_group")
