"""Curation in the Django admin: songs with their labels and tags, recognitions read-only."""

from django.contrib import admin
from django.db.models import Prefetch
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import admin_crawl  # noqa: F401  (registers CrawlRun)
from .models import EmotionLabel, Favourite, Recognition, Song, Tag, TypicalSong


class EmotionLabelInline(admin.TabularInline):
    model = EmotionLabel
    extra = 0
    fields = ("emotion", "source", "confidence", "labelled_by", "labelled_at")
    readonly_fields = ("labelled_by", "labelled_at")


class LabelEmotionFilter(admin.SimpleListFilter):
    title = _("emotion")
    parameter_name = "emotion"

    def lookups(self, request, model_admin):
        return EmotionLabel._meta.get_field("emotion").choices

    def queryset(self, request, queryset):
        return queryset.filter(labels__emotion=self.value()).distinct() if self.value() else queryset


class LabelSourceFilter(admin.SimpleListFilter):
    title = _("label source")
    parameter_name = "label_source"

    def lookups(self, request, model_admin):
        return EmotionLabel.Source.choices

    def queryset(self, request, queryset):
        return queryset.filter(labels__source=self.value()).distinct() if self.value() else queryset


@admin.register(Song)
class SongAdmin(admin.ModelAdmin):
    list_display = ("title", "artist", "source", "emotions", "tag_list", "is_active", "listen")
    list_filter = (LabelEmotionFilter, LabelSourceFilter, "source", "is_active", "tags__kind")
    search_fields = ("title", "artist", "external_id")
    filter_horizontal = ("tags",)
    readonly_fields = ("normalised_key", "created_at", "updated_at")
    inlines = [EmotionLabelInline]
    list_per_page = 50

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

    @admin.display(description=_("emotions"))
    def emotions(self, song):
        return ", ".join(f"{label.emotion} ({label.source} {label.confidence:.2f})" for label in song.labels.all())

    @admin.display(description=_("tags"))
    def tag_list(self, song):
        return ", ".join(tag.display_name for tag in song.tags.all())

    @admin.display(description=_("listen"))
    def listen(self, song):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', song.url, _("open")) if song.url else ""


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
admin.site.site_header = _("Mien curation")
