"""How long Mien keeps what nobody owns: anonymous recognitions and expired sessions.

A visitor who never signs up owns their recognitions only through a session cookie; once the
session is gone nobody can read them, and after MIEN_ANONYMOUS_RETENTION_DAYS they are deleted
whether or not it is. Signed-in people's recognitions stay until they delete their account.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from recommender.models import Recognition


def purge_expired(now=None) -> dict[str, int]:
    """Delete anonymous recognitions older than the retention period and expired sessions."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MIEN_ANONYMOUS_RETENTION_DAYS)
    recognitions, _by_model = Recognition.objects.filter(user__isnull=True, created_at__lt=cutoff).delete()
    sessions, _by_model = Session.objects.filter(expire_date__lt=now).delete()
    return {"recognitions": recognitions, "sessions": sessions}
