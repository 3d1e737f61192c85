"""The review queue in the admin (recommender/review.py decides what waits and in what order).

Each row says why the song's label is what it is (the catalogue rule and tags, the classifier's
probabilities and the lyrics' lexicon features, the curator who decided), how many playlists it
shapes and how often people pushed back; one click confirms the label, a pick and a click changes
it. The bulk actions of the song list stay (common.py).
"""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import catalogue_evidence, curation, review
from ..lyrics.evidence import lyrics_evidence
from .common import CurationActions, HasLyricsFilter, emotion_name, source_name
from ..models import EMOTION_CHOICES, EMOTION_LABELS, EmotionLabel, Song, SongReview



def describe_in_language(source: str, emotions: dict[str, float]) -> str:
    """curation.describe for a person: emotions and the label's source in the curator's language."""
    if not emotions:
        return ""
    return ", ".join(f"{emotion_name(e)} {c:.2f}" for e, c in emotions.items()) + f" ({source_name(source)})"

class QueueChangeList(ChangeList):
    def _get_default_ordering(self):
        return review.QUEUE_ORDER  # not ModelAdmin.ordering: the system checks want model fields there


class QueueEmotionFilter(admin.SimpleListFilter):
    """The emotion of the label playlists use (the admin index counts the queue the same way)."""

    title = _("emotion")
    parameter_name = "emotion"

    def lookups(self, request, model_admin):
        return EMOTION_CHOICES

    def queryset(self, request, queryset):
        return review.with_emotion(queryset, self.value()) if self.value() in EMOTION_LABELS else queryset


class ReasonFilter(admin.SimpleListFilter):
    title = _("waiting because")
    parameter_name = "because"

    def lookups(self, request, model_admin):
        return [("low", _("low confidence")), ("pushback", _("people push back"))]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(low_confidence=True)
        if self.value() == "pushback":
            return queryset.filter(pushed_back=True)
        return queryset


@admin.register(SongReview)
class SongReviewAdmin(CurationActions, admin.ModelAdmin):
    """The queue (?threshold=0.5 changes the confidence threshold for this page)."""

    list_display = ("title_link", "artist", "label", "decide", "evidence", "playlist_count", "pushback")
    list_display_links = None
    search_fields = ("title", "artist")
    list_filter = (QueueEmotionFilter, ReasonFilter, HasLyricsFilter, "source")
    actions = ["approve_model_labels", "set_emotion", "add_tag", "remove_tag", "remove_from_library"]
    list_per_page = 50
    show_full_result_count = False  # the queue's count is the costly part of the page: count it once

    class Media:
        css = {"all": ["css/review.css"]}

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def get_queryset(self, request):
        threshold = getattr(request, "review_threshold", None)
        # Not super(): it orders by get_ordering() before the annotations it orders by exist.
        queryset = review.review_queue(self.model._default_manager.get_queryset(), threshold=threshold)
        return queryset.prefetch_related("tags", Prefetch(
            "labels", queryset=EmotionLabel.objects.select_related("labelled_by").order_by("-confidence")))

    def get_ordering(self, request):
        return review.QUEUE_ORDER

    def get_urls(self):
        return [path("decide/", self.admin_site.admin_view(require_POST(self.decide_view)),
                     name="recommender_songreview_decide"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        # ?threshold= is ours, not a field lookup: take it off before the change list sees it.
        if "threshold" in request.GET:
            try:
                request.review_threshold = min(1.0, max(0.0, float(request.GET["threshold"])))
            except ValueError:
                pass
            request.GET = request.GET.copy()
            request.GET.pop("threshold")
        threshold = getattr(request, "review_threshold", review.REVIEW_THRESHOLD)
        subtitle = _("labels below %(t).2f and songs people push back on; most playlists first, then lowest "
                     "confidence") % {"t": threshold}
        with review.planned_without_jit():
            response = super().changelist_view(request, {**(extra_context or {}), "title": _("Review queue"),
                                                         "subtitle": subtitle})
            # The rows are fetched while the template renders: render inside the transaction.
            return response.render() if hasattr(response, "render") else response

    def decide_view(self, request):
        """One row's button: confirm the song's label, or change it to the emotion picked beside it."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:recommender_songreview_changelist")
        song_id = request.POST.get("review_confirm") or request.POST.get("review_relabel") or ""
        song = Song.objects.filter(pk=int(song_id)).first() if song_id.isdigit() else None
        if song is None:
            raise Http404(gettext("No such song."))
        if "review_confirm" in request.POST:
            curation.confirm([song], user=request.user)
            self.message_user(request, gettext("Confirmed “%(song)s”: %(label)s.") % {
                "song": song, "label": describe_in_language(*curation.effective_labels(song.labels.all()))}, messages.SUCCESS)
            return redirect(back)
        emotion = request.POST.get(f"review_emotion_{song.pk}", "")
        if emotion not in EMOTION_LABELS:
            self.message_user(request, gettext("Pick an emotion for “%(song)s” first.") % {"song": song}, messages.ERROR)
            return redirect(back)
        if curation.set_emotion([song], emotion, user=request.user, via="review"):
            self.message_user(request, gettext("“%(song)s” relabelled as %(emotion)s.") % {
                "song": song, "emotion": EMOTION_LABELS[emotion]}, messages.SUCCESS)
        else:
            self.message_user(request, gettext("“%(song)s” already has that label.") % {"song": song}, messages.INFO)
        return redirect(back)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) if obj is None else False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # -- columns ----------------------------------------------------------------------------------

    @admin.display(description=_("title"), ordering="title")
    def title_link(self, song):
        link = format_html('<a href="{}">{}</a>', reverse("admin:recommender_song_change", args=[song.pk]), song.title)
        return format_html("{}<br><small>{} {}</small>", link, song.get_source_display(), self.listen(song))

    @admin.display(description=_("label"), ordering="label_confidence")
    def label(self, song):
        names = {review.REASON_LOW_CONFIDENCE: _("low confidence"), review.REASON_HIDDEN: _("hidden by people"),
                 review.REASON_CORRECTED: _("in corrected playlists")}
        return format_html('{}<br><small class="review-reasons">{}</small>',
                           describe_in_language(*curation.effective_labels(song.labels.all())),
                           ", ".join(str(names[reason]) for reason in review.reasons(song)))

    @admin.display(description=_("playlists"), ordering="playlist_count")
    def playlist_count(self, song):
        return song.playlist_count

    @admin.display(description=_("pushback"), ordering="hides")
    def pushback(self, song):
        return format_html('<span class="review-hides">{}</span><br><span class="review-corrections">{}</span>',
                           gettext("hidden by %(n)d") % {"n": song.hides},
                           gettext("in %(n)d corrected playlists") % {"n": song.corrections})

    @admin.display(description=_("why this label"))
    def evidence(self, song):
        labels = list(song.labels.all())
        source, _emotions = curation.effective_labels(labels)
        lines = []
        if source == EmotionLabel.Source.ADMIN:
            curated = [label for label in labels if label.source == source]
            lines.append(gettext("decided by %(who)s on %(when)s") % {
                "who": curated[0].labelled_by or gettext("a curator"), "when": curated[0].labelled_at.date().isoformat()})
        elif source == EmotionLabel.Source.CATALOGUE:
            lines += self._catalogue_lines(song, [label for label in labels if label.source == source])
        elif source == EmotionLabel.Source.MODEL:
            lines.append(gettext("classifier: %(probabilities)s") % {"probabilities": self.classifier_probabilities(song)})
        if source == EmotionLabel.Source.MODEL or song.lyrics_features or song.lyrics:
            lines.append(gettext("lyrics: %(evidence)s") % {"evidence": self.lexicon_features(song)})
        lines.append(gettext("tags: %(tags)s") % {"tags": self.tag_list(song) or "-"})
        return format_html('<ul class="review-evidence">{}</ul>', format_html_join("", "<li>{}</li>", ((line,) for line in lines)))

    def _catalogue_lines(self, song, labels):
        tags = {tag.name: tag.display_name for tag in song.tags.all()}
        lines = []
        for label in labels:
            reasons = catalogue_evidence.explain(song.source, tags, label.emotion, label.confidence)
            if not reasons:
                lines.append(gettext("%(emotion)s %(confidence).2f: no catalogue rule fits its tags any more") % {
                    "emotion": emotion_name(label.emotion), "confidence": label.confidence})
            for reason in reasons[:2]:
                line = self._catalogue_line(reason, tags)
                if reason.kind == "sector" and song.source == "netease":  # only a merged entry gives one
                    line += "; " + gettext("read from a Deezer or Spotify entry of the same song, merged into it")
                lines.append(line)
        return lines

    @staticmethod
    def _catalogue_line(reason, tag_names) -> str:
        label = {"emotion": emotion_name(reason.emotion), "confidence": reason.confidence, "rule": reason.rule}
        if reason.kind == "netease":
            line = gettext("%(emotion)s %(confidence).2f from the catalogue rule “%(rule)s”") % label
            line += "; " + gettext("tags used: %(tags)s; fired on %(share)d%% of its NetEase playlists (weight %(weight).1f)") % {
                "tags": ", ".join(tag_names.get(t, t) for t in reason.tags), "share": round(reason.share * 100),
                "weight": reason.weight}
            if reason.without:
                line += "; " + gettext("not on playlists also tagged %(tags)s") % {
                    "tags": ", ".join(tag_names.get(t, t) for t in reason.without)}
            return line
        if reason.kind == "spotify_mood":
            return gettext("%(emotion)s %(confidence).2f from its Spotify playlist's mood %(mood)s: %(rule)s") % {
                **label, "mood": reason.mood}
        low, high, centre = reason.sector
        line = gettext("%(emotion)s %(confidence).2f from the catalogue rule “valence/arousal sector %(low)d°-%(high)d° "
                  "(centre %(centre)d°): %(rule)s”") % {**label, "low": low, "high": high, "centre": centre}
        if reason.derived_tags:
            line += "; " + gettext("tags derived from the same valence/arousal: %(tags)s") % {
                "tags": "; ".join(f"{tag_names.get(tag, tag)} ({rule})" for tag, rule in reason.derived_tags)}
        return line

    def classifier_probabilities(self, song):
        """Every emotion's probability, kept when the song was labelled."""
        probabilities = curation.model_probabilities(song.labels.all())
        if not probabilities:
            return gettext("not kept (labelled before probabilities were kept: run label_songs)")
        return ", ".join(f"{emotion_name(e)} {p:.2f}" for e, p in probabilities.items())

    def lexicon_features(self, song):
        evidence = song.lyrics_features or lyrics_evidence(song.lyrics)
        if not evidence:
            return gettext("no lyrics")
        intensities = ", ".join(f"{emotion_name(e)} {v:.2f}" for e, v in evidence["intensities"].items()) or gettext("no emotion words")
        return gettext("%(intensities)s; polarity %(polarity)+.2f; %(hits)d emotion words, %(negations)d negated, "
                  "%(degrees)d degree words in %(words)d words") % {**evidence, "intensities": intensities}

    @admin.display(description=_("decide"))
    def decide(self, song):
        url = reverse("admin:recommender_songreview_decide")
        _source, current = curation.effective_labels(song.labels.all())
        options = format_html_join("", '<option value="{}">{}</option>', EMOTION_CHOICES)
        choice = format_html('<select name="review_emotion_{}" id="review-emotion-{}" aria-label="{}">'
                             '<option value="">---------</option>{}</select>', song.pk, song.pk, gettext("new emotion"), options)
        return format_html(
            '<button type="submit" class="button review-confirm" name="review_confirm" value="{}" formaction="{}" '
            'title="{}">{}</button> {} <button type="submit" class="button review-relabel" name="review_relabel" '
            'value="{}" formaction="{}">{}</button>',
            song.pk, url, gettext("Keep %(label)s as a curated label") % {"label": ", ".join(emotion_name(e) for e in current)}, gettext("Confirm"),
            choice, song.pk, url, gettext("Change"))
