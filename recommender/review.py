"""The curators' review queue: which songs wait for a curator, in what order, and why.

A song waits when
- its best non-admin label (the one playlists use: model over catalogue) is below
  ``MIEN_REVIEW_THRESHOLD``, whatever produced it (a catalogue rule, the lyrics model), unless a
  curator has decided on it (it has admin labels); or
- people push back on its label: at least ``MIEN_REVIEW_MIN_HIDES`` people hid it ("not for me") or
  it was in at least ``MIEN_REVIEW_MIN_CORRECTIONS`` playlists whose owner corrected the emotion.
  A playlist only ever draws a song from the libraries of its labels, so a hide from a playlist is a
  hide from a playlist of its emotion. Pushback is counted since a curator last decided on the song
  (its newest admin label): confirming or relabelling answers what came before.

Order: impact first, then doubt. Impact is how many stored playlists (recognitions, whatever their
emotion) list the song: those are the playlists a wrong label has shaped. The bundled catalogue
keeps no playlist counts of its own (scripts/build_catalogue.py only keeps the rules' shares), so
on a fresh install every song has 0 and the queue is ordered by lowest confidence, then by
popularity (the ranking's tiebreak, so the songs most likely to be picked come first).

Everything is computed as annotations of one query (subqueries per song on indexed foreign keys).
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (BooleanField, Count, DateTimeField, Exists, ExpressionWrapper, F, FloatField,
                              IntegerField, Max, OuterRef, Q, Subquery, Value)
from django.db.models.functions import Coalesce

from .models import REVIEW_THRESHOLD, EmotionLabel, HiddenSong, Recognition, RecognitionCorrection, Song

ADMIN = EmotionLabel.Source.ADMIN
MODEL = EmotionLabel.Source.MODEL
CATALOGUE = EmotionLabel.Source.CATALOGUE
NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)

REASON_LOW_CONFIDENCE = "low_confidence"
REASON_HIDDEN = "hidden"
REASON_CORRECTED = "corrected"


def _best_confidence(source: str) -> Subquery:
    labels = EmotionLabel.objects.filter(song=OuterRef("pk"), source=source).order_by("-confidence")
    return Subquery(labels.values("confidence")[:1], output_field=FloatField())


def _count(queryset) -> Coalesce:
    """Rows of ``queryset`` (already filtered on the outer song) as an integer subquery, 0 when none."""
    counted = queryset.order_by().values("song").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_review_signals(queryset=None):
    """Songs annotated with everything the queue decides and shows by:

    ``admin_confidence``, ``model_confidence``, ``catalogue_confidence`` (best label of each source),
    ``label_confidence`` (of the label playlists use), ``review_confidence`` (of the best non-admin
    label: model over catalogue), ``curated`` / ``curated_at`` (admin labels and their newest time),
    ``playlist_count`` (stored playlists listing it), ``hides`` and ``corrections`` (since ``curated_at``).
    """
    queryset = Song.objects.all() if queryset is None else queryset
    admin_labels = EmotionLabel.objects.filter(song=OuterRef("pk"), source=ADMIN)
    queryset = queryset.annotate(
        admin_confidence=_best_confidence(ADMIN),
        model_confidence=_best_confidence(MODEL),
        catalogue_confidence=_best_confidence(CATALOGUE),
        curated=Exists(admin_labels),
        curated_at=Subquery(admin_labels.order_by("-labelled_at").values("labelled_at")[:1],
                            output_field=DateTimeField()),
    ).annotate(
        review_confidence=Coalesce("model_confidence", "catalogue_confidence"),
        label_confidence=Coalesce(*(f"{source}_confidence" for source in EmotionLabel.BY_PRIORITY)),
        since=Coalesce("curated_at", Value(NEVER, output_field=DateTimeField())),
    )
    through_playlists = Recognition.playlist_songs.through.objects.filter(song=OuterRef("pk"))
    hides = HiddenSong.objects.filter(song=OuterRef("pk"), created_at__gt=OuterRef("since"))
    corrections = RecognitionCorrection.playlist_songs.through.objects.filter(
        song=OuterRef("pk"), recognitioncorrection__corrected_at__gt=OuterRef("since"))
    return queryset.annotate(playlist_count=_count(through_playlists), hides=_count(hides),
                             corrections=_count(corrections))


def _doubtful_song_ids(threshold: float):
    """Songs whose best non-admin label (model over catalogue) is below ``threshold``: one pass over
    the labels, evaluated once by the database (not per song)."""
    best = (EmotionLabel.objects.exclude(source=ADMIN).order_by().values("song")
            .annotate(model=Max("confidence", filter=Q(source=MODEL)),
                      catalogue=Max("confidence", filter=Q(source=CATALOGUE)))
            .annotate(best=Coalesce("model", "catalogue")).filter(best__lt=threshold))
    return best.values("song")


def _often(model, minimum: int):
    """Songs with at least ``minimum`` rows in ``model`` ever: a superset of the pushed-back songs (the
    exact count is since the curator's decision), so the exact count runs only for these."""
    return model.objects.order_by().values("song").annotate(n=Count("pk")).filter(n__gte=minimum).values("song")


def review_queue(queryset=None, threshold: float | None = None, min_hides: int | None = None,
                 min_corrections: int | None = None):
    """The songs in the library that wait for a curator, most playlists first, then lowest confidence.

    Also annotated with ``low_confidence``, ``pushed_back`` (booleans: why each one waits).
    """
    threshold = REVIEW_THRESHOLD if threshold is None else threshold
    min_hides = max(1, settings.MIEN_REVIEW_MIN_HIDES if min_hides is None else min_hides)
    min_corrections = max(1, settings.MIEN_REVIEW_MIN_CORRECTIONS if min_corrections is None else min_corrections)
    queryset = with_review_signals((Song.objects.all() if queryset is None else queryset).filter(is_active=True))
    # Cheap set tests first: the per-song counts only run for songs that can pass them.
    low = Q(id__in=_doubtful_song_ids(threshold)) & Q(curated=False)
    pushed_back = ((Q(id__in=_often(HiddenSong, min_hides)) & Q(hides__gte=min_hides))
                   | (Q(id__in=_often(RecognitionCorrection.playlist_songs.through, min_corrections))
                      & Q(corrections__gte=min_corrections)))
    return (queryset.filter(Exists(EmotionLabel.objects.filter(song=OuterRef("pk")))).filter(low | pushed_back)
            .annotate(low_confidence=ExpressionWrapper(low, output_field=BooleanField()),
                      pushed_back=ExpressionWrapper(pushed_back, output_field=BooleanField()))
            .order_by(*QUEUE_ORDER))


@contextmanager
def planned_without_jit():
    """Run the queue's queries in a transaction with PostgreSQL's JIT off. The queue's many correlated
    subqueries give it a cost estimate above jit_above_cost, and compiling them took ~1 s for a query
    that runs in ~0.3 s on the full catalogue (bench/bench_review.py)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def reasons(song) -> list[str]:
    """Why an annotated queue song waits: REASON_* codes, in the order the admin shows them."""
    found = []
    if not song.curated and song.review_confidence is not None and song.review_confidence < REVIEW_THRESHOLD:
        found.append(REASON_LOW_CONFIDENCE)
    if song.hides >= max(1, settings.MIEN_REVIEW_MIN_HIDES):
        found.append(REASON_HIDDEN)
    if song.corrections >= max(1, settings.MIEN_REVIEW_MIN_CORRECTIONS):
        found.append(REASON_CORRECTED)
    return found


def waiting_per_emotion(queryset=None, **thresholds) -> tuple[int, dict[str, int]]:
    """(songs waiting, {emotion: songs waiting whose label playlists use is that emotion}); a song
    with two emotions counts under both. Two queries."""
    waiting = review_queue(queryset, **thresholds).order_by().values("pk")
    with planned_without_jit():
        rows = list(EmotionLabel.objects.filter(song__in=Subquery(waiting)).values_list(
            "song_id", "emotion", "source", "confidence"))
    by_song = EmotionLabel.effective_by_song(rows)
    per_emotion: Counter = Counter()
    for _source, emotions in by_song.values():
        per_emotion.update(emotions.keys())  # one per emotion (a dict would add its confidences)
    return len(by_song), dict(per_emotion)


def with_emotion(queryset, emotion: str):
    """Annotated songs (``with_review_signals``) whose label that playlists use is ``emotion``."""
    def has(source):
        return Exists(EmotionLabel.objects.filter(song=OuterRef("pk"), source=source, emotion=emotion))

    return queryset.filter((Q(curated=True) & has(ADMIN))
                           | (Q(curated=False, model_confidence__isnull=False) & has(MODEL))
                           | (Q(curated=False, model_confidence__isnull=True) & has(CATALOGUE)))


QUEUE_ORDER = ("-playlist_count", "label_confidence", F("popularity").desc(nulls_last=True), "id")
