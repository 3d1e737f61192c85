"""Curation in the Django admin: songs with their labels, tags and history; Excel import; label
history, tags and recognitions. The review queue is in review_queue.py, shared pieces in common.py."""

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .. import curation, retraining, spreadsheet
from ..models import EmotionLabel, Favourite, LabelChange, Recognition, Song, Tag, TypicalSong
from .common import (ConfidenceBandFilter, CurationActions, HasLyricsFilter, LabelEmotionFilter, LabelSourceFilter,
                     TagFilter)
from .retrain import can_retrain, describe_scores


class EmotionLabelInline(admin.TabularInline):
    model = EmotionLabel
    extra = 0
    fields = ("emotion", "source", "confidence", "labelled_by", "labelled_at")
    readonly_fields = ("labelled_by", "labelled_at")


class LabelChangeInline(admin.TabularInline):
    """The song's label history: who, when, old and new. Read-only."""

    model = LabelChange
    extra = 0
    fields = ("changed_at", "changed_by", "old", "new", "via")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("label history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ImportLibraryForm(forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx) from “Export to Excel”"))


@admin.register(Song)
class SongAdmin(CurationActions, admin.ModelAdmin):
    list_display = ("title", "artist", "source", "emotions", "confidence", "tag_list", "is_active", "listen")
    list_filter = (LabelEmotionFilter, LabelSourceFilter, ConfidenceBandFilter, HasLyricsFilter, "source",
                   "is_active", TagFilter, "tags__kind")
    search_fields = ("title", "artist", "external_id")
    filter_horizontal = ("tags",)
    readonly_fields = ("normalised_key", "lyrics_features", "lyrics_checked_at", "created_at", "updated_at")
    # A link typed without a scheme is a https one (Django 6's default; saying so silences the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [EmotionLabelInline, LabelChangeInline]
    list_per_page = 50
    actions = ["set_emotion", "approve_model_labels", "add_tag", "remove_tag", "remove_from_library",
               "restore_to_library", "export_excel"]
    change_list_template = "admin/recommender/song/change_list.html"

    def save_related(self, request, form, formsets, change):
        old = curation.current_description(form.instance) if change else ""
        super().save_related(request, form, formsets, change)
        curation.record_change(form.instance, old, user=request.user, via="admin form")

    def save_formset(self, request, form, formset, change):
        # A label a curator writes or edits is an admin label, signed by the curator.
        for label in formset.save(commit=False):
            if isinstance(label, EmotionLabel):
                label.source = EmotionLabel.Source.ADMIN
                label.labelled_by = request.user
            label.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            "tags", Prefetch("labels", queryset=EmotionLabel.objects.order_by("-confidence")))

    def get_urls(self):
        return [path("import-excel/", self.admin_site.admin_view(self.import_excel_view),
                     name="recommender_song_import_excel"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        # The header shows the song classifier's last retraining and, to curators, the button.
        run = retraining.last_run()
        extra_context = {**(extra_context or {}), "last_classifier_run": run,
                         "last_classifier_scores": describe_scores(run) if run else "",
                         "can_retrain": can_retrain(request.user)}
        return super().changelist_view(request, extra_context)

    def import_excel_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportLibraryForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / "upload.xlsx"
                target.write_bytes(form.cleaned_data["file"].read())
                try:
                    report = spreadsheet.import_library(target, user=request.user)
                except spreadsheet.LibraryImportError as error:
                    errors = error.errors
                except Exception as error:  # not an Excel file at all
                    errors = [(0, f"could not read the file: {error}")]
                else:
                    self.message_user(request, str(report), messages.SUCCESS)
                    return redirect(reverse("admin:recommender_song_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "errors": errors, "title": _("Import the library from Excel")}
        return render(request, "admin/recommender/song/import_excel.html", context)


@admin.register(LabelChange)
class LabelChangeAdmin(admin.ModelAdmin):
    list_display = ("changed_at", "song", "changed_by", "old", "new", "via")
    list_filter = ("via",)
    search_fields = ("song__title", "song__artist", "changed_by__username")
    list_select_related = ("song", "changed_by")
    readonly_fields = ("song", "changed_by", "changed_at", "old", "new", "via")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "name_zh", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "name_en", "name_zh")


@admin.register(Recognition)
class RecognitionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "status", "emotion", "face_count", "created_at")
    list_filter = ("status", "emotion")
    readonly_fields = [f.name for f in Recognition._meta.fields]

    def has_add_permission(self, request):
        return False


admin.site.register(TypicalSong)
admin.site.register(Favourite)
admin.site.site_header = admin.site.site_title = _("Mien curation")
