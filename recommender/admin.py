"""Curation in the Django admin: songs with their labels, tags and history; bulk relabel / approve /
soft delete / tag; Excel export and import. The review queue is in admin_review.py.

The work itself lives in recommender/curation.py; these classes only collect what to act on.
"""

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import admin_crawl  # noqa: F401  (registers CrawlRun)
from . import curation, retraining
from .admin_retrain import can_retrain, describe_scores  # registers ClassifierRun
from .models import (EMOTION_CHOICES, EMOTION_LABELS, EmotionLabel, Favourite, LabelChange, Recognition, Song,
                     Tag, TypicalSong)


def emotion_name(key: str) -> str:
    """An emotion in the curator's language ("happy" -> "Happy", 快乐)."""
    return str(EMOTION_LABELS.get(key, key))


def source_name(source: str) -> str:
    return str(EmotionLabel.Source(source).label) if source in EmotionLabel.Source.values else source


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


class LabelEmotionFilter(admin.SimpleListFilter):
    title = _("emotion")
    parameter_name = "emotion"

    def lookups(self, request, model_admin):
        return EmotionLabel._meta.get_field("emotion").choices

    def queryset(self, request, queryset):
        return queryset.filter(labels__emotion=self.value()).distinct() if self.value() else queryset


class LabelSourceFilter(admin.SimpleListFilter):
    """Where the song's effective labels come from (admin outranks model outranks catalogue)."""

    title = _("label source")
    parameter_name = "label_source"

    def lookups(self, request, model_admin):
        return EmotionLabel.Source.choices

    def queryset(self, request, queryset):
        return queryset.filter(curation.effective_source_q(self.value())) if self.value() else queryset


class ConfidenceBandFilter(admin.SimpleListFilter):
    """The best confidence among the song's labels."""

    title = _("confidence")
    parameter_name = "confidence"
    names = {"low": _("low"), "medium": _("medium"), "high": _("high")}

    def lookups(self, request, model_admin):
        return [(name, f"{self.names.get(name, name)} ({low:.1f}-{min(high, 1):.1f})")
                for name, (low, high) in curation.CONFIDENCE_BANDS.items()]

    def queryset(self, request, queryset):
        if self.value() not in curation.CONFIDENCE_BANDS:
            return queryset
        low, high = curation.CONFIDENCE_BANDS[self.value()]
        best = EmotionLabel.objects.filter(song=OuterRef("pk")).order_by("-confidence").values("confidence")[:1]
        return queryset.annotate(best_confidence=Subquery(best)).filter(
            best_confidence__gte=low, best_confidence__lt=high)


class HasLyricsFilter(admin.SimpleListFilter):
    """Lyrics known: stored, or read once and dropped with their features kept."""

    title = _("has lyrics")
    parameter_name = "has_lyrics"
    known = ~Q(lyrics="") | ~Q(lyrics_sha1="")

    def lookups(self, request, model_admin):
        return [("yes", _("yes")), ("no", _("no"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.known)
        if self.value() == "no":
            return queryset.exclude(self.known)
        return queryset


class TagFilter(admin.SimpleListFilter):
    """The 40 most used tags (any other tag: search for it, or use ?tag=NAME)."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags = Tag.objects.annotate(n=Count("songs")).order_by("-n", "name")[:40]
        return [(t.name, t.display_name) for t in tags]

    def queryset(self, request, queryset):
        return queryset.filter(tags__name=self.value()).distinct() if self.value() else queryset


class CurationActionForm(ActionForm):
    """The action bar: which emotion a relabel sets, which tag a tag action adds or removes."""

    emotion = forms.ChoiceField(label=_("emotion"), choices=[("", "---------"), *EMOTION_CHOICES], required=False)
    tag = forms.SlugField(label=_("tag"), required=False, max_length=64)


class CurationActions:
    """Bulk actions shared by the song list and the review queue."""

    action_form = CurationActionForm

    @admin.action(description=_("Set emotion (chosen beside the action) for selected songs"),
                  permissions=["change"])
    def set_emotion(self, request, queryset):
        emotion = request.POST.get("emotion", "")
        if emotion not in dict(EMOTION_CHOICES):
            self.message_user(request, _("Choose an emotion next to the action first."), messages.ERROR)
            return
        count = curation.set_emotion(queryset, emotion, user=request.user)
        self.message_user(request, _("%(n)d song(s) relabelled as %(e)s.") % {"n": count, "e": emotion_name(emotion)},
                          messages.SUCCESS)

    @admin.action(description=_("Approve model labels of selected songs"), permissions=["change"])
    def approve_model_labels(self, request, queryset):
        count = curation.approve(queryset, user=request.user)
        self.message_user(request, _("%(n)d song(s) approved.") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Remove selected songs from the library (reversible)"), permissions=["change"])
    def remove_from_library(self, request, queryset):
        count = curation.set_active(queryset, False)
        self.message_user(request, _("%(n)d song(s) removed from the library.") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Restore selected songs to the library"), permissions=["change"])
    def restore_to_library(self, request, queryset):
        count = curation.set_active(queryset, True)
        self.message_user(request, _("%(n)d song(s) restored.") % {"n": count}, messages.SUCCESS)

    def _tag_name(self, request):
        field = forms.SlugField(max_length=64)
        try:
            return field.clean(request.POST.get("tag", "").strip().lower())
        except forms.ValidationError:
            self.message_user(request, _("Type a tag name (letters, digits, - or _) next to the action first."),
                              messages.ERROR)
            return None

    @admin.action(description=_("Add tag (typed beside the action) to selected songs"), permissions=["change"])
    def add_tag(self, request, queryset):
        name = self._tag_name(request)
        if name:
            curation.add_tag(queryset, name)
            self.message_user(request, _("Tag %(t)s added to %(n)d song(s).") % {"t": name, "n": queryset.count()},
                              messages.SUCCESS)

    @admin.action(description=_("Remove tag (typed beside the action) from selected songs"),
                  permissions=["change"])
    def remove_tag(self, request, queryset):
        name = self._tag_name(request)
        if name:
            count = curation.remove_tag(queryset, name)
            self.message_user(request, _("Tag %(t)s removed from %(n)d song(s).") % {"t": name, "n": count},
                              messages.SUCCESS)

    @admin.action(description=_("Export selected songs to Excel"), permissions=["view"])
    def export_excel(self, request, queryset):
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "library.xlsx"
            curation.export_library(target, Song.objects.filter(pk__in=queryset.values("pk")))
            response = HttpResponse(target.read_bytes(), content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response["Content-Disposition"] = 'attachment; filename="mien-library.xlsx"'
        return response

    @admin.display(description=_("emotions"))
    def emotions(self, song):
        source, emotions = curation.effective_labels(song.labels.all())
        return ", ".join(map(emotion_name, emotions)) + (f" ({source_name(source)})" if source else "")

    @admin.display(description=_("confidence"))
    def confidence(self, song):
        _source, emotions = curation.effective_labels(song.labels.all())
        return f"{max(emotions.values()):.2f}" if emotions else ""

    @admin.display(description=_("tags"))
    def tag_list(self, song):
        return ", ".join(tag.display_name for tag in song.tags.all())

    @admin.display(description=_("listen"))
    def listen(self, song):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', song.url, _("open")) if song.url else ""


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
                    report = curation.import_library(target, user=request.user)
                except curation.LibraryImportError as error:
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

from . import admin_review  # noqa: E402,F401  (registers the review queue; it reuses the classes above)
