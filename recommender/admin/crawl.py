"""Admin for crawl runs: read-only history of every crawl (a module of recommender.admin)."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import CrawlRun


@admin.register(CrawlRun)
class CrawlRunAdmin(admin.ModelAdmin):
    list_display = ("id", "spider", "status", "started_at", "took", "outcome", "items_scraped", "items_new",
                    "items_updated", "items_merged", "items_dropped", "errors")
    list_filter = ("spider", "status", "started_at")
    date_hierarchy = "started_at"
    search_fields = ("message", "finish_reason")
    ordering = ("-started_at", "-id")
    readonly_fields = ("spider", "status", "started_at", "finished_at", "lease_expires_at", "host", "pid",
                       "finish_reason", "items_scraped", "items_new", "items_updated", "items_merged",
                       "items_dropped", "errors", "message", "blocked", "backoff_until", "progress", "stats")
    fieldsets = (
        (None, {"fields": ("spider", "status", "finish_reason", "started_at", "finished_at", "message")}),
        (_("Blocked by the site"), {"fields": ("blocked", "backoff_until")}),
        (_("Items"), {"fields": ("items_scraped", "items_new", "items_updated", "items_merged", "items_dropped",
                                 "errors")}),
        (_("Process"), {"fields": ("host", "pid", "lease_expires_at", "progress", "stats"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("blocked by the site"))
    def blocked(self, run):
        return run.blocked_reason or "—"

    @admin.display(description=_("outcome"))
    def outcome(self, run):
        """Why the run stopped, in a few words: a block and its back-off first."""
        if run.blocked_reason:
            if run.backoff_until and run.backoff_until > timezone.now():
                return _("blocked: %(reason)s (backing off until %(until)s)") % {
                    "reason": run.blocked_reason, "until": timezone.localtime(run.backoff_until).strftime("%Y-%m-%d %H:%M")}
            return _("blocked: %(reason)s") % {"reason": run.blocked_reason}
        return (run.message.splitlines() or [run.finish_reason or ""])[0][:160]

    @admin.display(description=_("took"))
    def took(self, run):
        duration = run.duration
        return str(duration).split(".")[0] if duration is not None else "—"

    def has_add_permission(self, request):
        return False  # runs are started with `manage.py crawl` or by the beat schedule

    def has_change_permission(self, request, obj=None):
        return False
