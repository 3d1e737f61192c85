"""Background runs and their records: crawls (CrawlRun) and song classifier retrainings
(ClassifierRun). A run's row is also its lock (a partial unique constraint)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CrawlRun", "ClassifierRun"]


class CrawlRun(models.Model):
    """One run of one spider (see crawler/ and recommender/crawling.py).

    A row in status ``running`` is also the spider's lock: at most one may exist per spider (a
    partial unique constraint, on SQLite and PostgreSQL alike), and it holds only while its lease
    is renewed; a row whose lease has run out is marked abandoned by the next run.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")
        ABANDONED = "abandoned", _("abandoned")

    spider = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lock lease expires"), null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=64, blank=True)
    items_scraped = models.PositiveIntegerField(default=0)
    items_new = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_merged = models.PositiveIntegerField(_("items merged into another source's song"), default=0)
    items_dropped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    stats = models.JSONField(default=dict, blank=True)
    # Set when the site blocked the crawler: the spider's next scheduled runs are skipped until then.
    backoff_until = models.DateTimeField(_("back off until"), null=True, blank=True)
    # Where a cut-short run stopped (the spider's own resume point); the next run carries on from it.
    progress = models.JSONField(_("resume point"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["spider"], condition=models.Q(status="running"),
                                               name="crawlrun_one_running_per_spider")]
        indexes = [models.Index(fields=["spider", "-started_at"])]

    def __str__(self):
        return f"{self.spider} #{self.pk} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at and self.started_at else None

    @property
    def blocked_reason(self) -> str:
        """How the site blocked this run ("" when it did not)."""
        return str((self.stats or {}).get("mien/blocked") or "")


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
