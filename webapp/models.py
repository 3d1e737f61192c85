"""What a person chose about their own data: the opt-in to keep snapshots, and the kept ones.

By default no selfie is stored anywhere. Only when a signed-in person turns on "Keep my
snapshots" is each new snapshot kept, linked to its recognition, as a re-encoded JPEG with no
metadata (no EXIF, no location), until they delete it or their account.

The image lives in the database (a BinaryField), not in MEDIA_ROOT: it then goes with the row
(a deleted recognition, person or snapshot leaves no orphan file behind, a rolled-back
transaction leaves nothing), and several web servers need no shared disk.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recommender.models import Recognition


class PrivacySetting(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_setting")
    keep_snapshots = models.BooleanField(_("keep my snapshots"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user} keep_snapshots={self.keep_snapshots}"

    @classmethod
    def keeps_snapshots(cls, user) -> bool:
        return bool(user.is_authenticated and cls.objects.filter(user=user, keep_snapshots=True).exists())


class KeptSnapshot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kept_snapshots")
    recognition = models.OneToOneField(Recognition, on_delete=models.CASCADE, related_name="kept_snapshot")
    image = models.BinaryField()  # JPEG, upright, at most MIEN_KEPT_SNAPSHOT_SIDE pixels a side
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"snapshot {self.id} of {self.user}"


class LanguageSetting(models.Model):
    """The interface language a signed-in person chose in the footer, applied again at each log-in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="language_setting")
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user} {self.language}"
