"""Admin for crawl runs: read-only history of every crawl (imported by recommender/admin.py)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import CrawlRun


@admin.register(CrawlRun)
class CrawlRunAdmin(admin.ModelAdmin):
    list_display = ("id", "spider", "status", "started_at", "took", "items_scraped", "items_new", "items_updated",
                    "items_merged", "items_dropped", "errors")
    list_filter = ("spider", "status", "started_at")
    date_hierarchy = "started_at"
    search_fields = ("message", "finish_reason")
    ordering = ("-started_at", "-id")
    readonly_fields = ("spider", "status", "started_at", "finished_at", "lease_expires_at", "host", "pid",
                       "finish_reason", "items_scraped", "items_new", "items_updated", "items_merged",
                       "items_dropped", "errors", "message", "stats")
    fieldsets = (
        (None, {"fields": ("spider", "status", "finish_reason", "started_at", "finished_at", "message")}),
        (_("Items"), {"fields": ("items_scraped", "items_new", "items_updated", "items_merged", "items_dropped",
                                 "errors")}),
        (_("Process"), {"fields": ("host", "pid", "lease_expires_at", "stats"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("took"))
    def took(self, run):
        duration = run.duration
        return str(duration).split(".")[0] if duration is not None else "—"

    def has_add_permission(self, request):
        return False  # runs are started with `manage.py crawl` or by the beat schedule

    def has_change_permission(self, request, obj=None):
        return False
