"""What the song list and the review queue share: emotion and source names in the curator's
language, the list filters, and the bulk actions (relabel, approve, soft delete, tag, export). The
work itself lives in recommender/curation.py and spreadsheet.py; these classes only collect what to
act on."""

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import curation, spreadsheet
from ..models import EMOTION_CHOICES, EMOTION_LABELS, EmotionLabel, Song, Tag


def emotion_name(key: str) -> str:
    """An emotion in the curator's language ("happy" -> "Happy", 快乐)."""
    return str(EMOTION_LABELS.get(key, key))


def source_name(source: str) -> str:
    return str(EmotionLabel.Source(source).label) if source in EmotionLabel.Source.values else source


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
            spreadsheet.export_library(target, Song.objects.filter(pk__in=queryset.values("pk")))
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
