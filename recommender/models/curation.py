"""Curation records: every change to a song's emotion labels, with who, when, old and new; the
review queue's proxy."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .library import Song

__all__ = ["LabelChange", "SongReview"]


class LabelChange(models.Model):
    """One change of a song's effective emotion labels (see recommender/curation.py)."""

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="label_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    old = models.CharField(_("before"), max_length=300, blank=True)
    new = models.CharField(_("after"), max_length=300, blank=True)
    via = models.CharField(_("how"), max_length=32, blank=True)  # relabel, approve, excel, admin form

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("label change")
        verbose_name_plural = _("label history")

    def __str__(self):
        return f"{self.song_id}: {self.old or '-'} -> {self.new or '-'}"


class SongReview(Song):
    """The review queue in the admin: songs whose model labels are below the confidence threshold."""

    class Meta:
        proxy = True
        verbose_name = _("song to review")
        verbose_name_plural = _("review queue")
