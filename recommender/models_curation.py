"""Curation records: every change to a song's emotion labels, with who, when, old and new; every
retraining of the song classifier from curated labels."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Song

__all__ = ["ClassifierRun", "LabelChange", "SongReview"]


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


class ClassifierRun(models.Model):
    """One retraining of the song classifier from the text emotion data plus curated labels, asked
    for in the admin and run as a task (see recommender/retraining.py).

    A row that is queued or running is also the lock: at most one may exist per model file (a partial
    unique constraint), so two runs never overlap; one left behind by a dead worker is marked
    abandoned once it is older than the task's time limit.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")
        ABANDONED = "abandoned", _("abandoned")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    model_path = models.CharField(_("model file"), max_length=500, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("asked for by"))
    requested_at = models.DateTimeField(_("asked for at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)  # langs, max_train, force, ...
    admin_examples = models.PositiveIntegerField(_("curated songs used"), null=True, blank=True)
    # {lang: {"classifier", "macro_f1", "accuracy", "test_n", "data_dir"}}: test figures of the new
    # model, and of the model that was shipped when the run started.
    scores = models.JSONField(_("test figures"), default=dict, blank=True)
    previous_scores = models.JSONField(_("shipped model's test figures before"), default=dict, blank=True)
    shipped = models.BooleanField(_("replaced the shipped model"), default=False)
    message = models.TextField(_("outcome"), blank=True)  # why it was (not) shipped, or the error
    log = models.TextField(_("training log (end)"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("song classifier retraining")
        verbose_name_plural = _("song classifier retrainings")
        constraints = [models.UniqueConstraint(
            fields=["model_path"], condition=models.Q(status__in=["queued", "running"]),
            name="classifierrun_one_active_per_model")]

    def __str__(self):
        return f"#{self.pk} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at and self.started_at else None
