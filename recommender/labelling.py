"""Song labels from lyrics: the library's side of paper section 3.1.

``label_lyrics`` is the one place where lyrics become a song's stored lexicon features and its
``model`` label (the classifier's emotion, its probability as the confidence, every emotion's
probability kept as the review queue's evidence). It runs inside ``library.ingest_many``, so crawled
lyrics are labelled as they arrive, and from ``label_songs`` for lyrics already stored (after a
retraining, say). Admin labels are never written or deleted: a curated song gets its features only.

Lyrics are copyrighted text we only need for a while, so unless ``MIEN_STORE_LYRICS`` is on they are
dropped once labelled, except where they are still needed (``keep_lyrics``): a label confident
enough to skip the admin's review queue has no further use for them, while a song in the queue keeps
them for the curator to read, and a curated song keeps them as training text for
``train_song_classifier``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .library_version import bump_library_version
from .lyrics.evidence import lyrics_evidence
from .models import REVIEW_THRESHOLD, EmotionLabel, Song

log = logging.getLogger(__name__)

CONFIDENCE_TOLERANCE = 1e-6


@dataclass
class LabelReport:
    candidates: int = 0  # songs whose lyrics were looked at
    labelled: int = 0  # model labels written (new or changed)
    unchanged: int = 0
    skipped_admin: int = 0  # songs with an admin label: features only
    blank: int = 0  # lyrics of whitespace only
    low_confidence: int = 0  # below REVIEW_THRESHOLD: the admin's review queue
    evidence_added: int = 0  # unchanged labels that had no stored probabilities yet
    lyrics_dropped: int = 0  # no longer needed, not stored
    unlabelled: int = 0  # no classifier available: lyrics kept for a later label_songs
    emotions: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: "LabelReport") -> None:
        for name in ("candidates", "labelled", "unchanged", "skipped_admin", "blank", "low_confidence",
                     "evidence_added", "lyrics_dropped", "unlabelled", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.emotions.update(other.emotions)

    def __str__(self):
        spread = ", ".join(f"{e} {n}" for e, n in self.emotions.most_common())
        return (f"{self.candidates} songs with lyrics: {self.labelled} labelled, {self.unchanged} unchanged"
                + (f" ({self.evidence_added} given their probabilities)" if self.evidence_added else "")
                + f", {self.skipped_admin} skipped (admin label), {self.blank} blank"
                + (f", {self.unlabelled} left unlabelled (no classifier)" if self.unlabelled else "")
                + f"; {self.low_confidence} below {REVIEW_THRESHOLD:.0%} confidence (review queue); "
                f"lyrics dropped for {self.lyrics_dropped}; [{spread}] in {self.seconds:.1f}s")


def lyrics_sha1(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()


def keep_lyrics(confidence: float | None, curated: bool) -> bool:
    """Whether a song's lyrics are still needed once its features and label are stored."""
    if settings.MIEN_STORE_LYRICS or curated:
        return True
    return confidence is None or confidence < REVIEW_THRESHOLD  # unlabelled, or the curator will read them


def load_classifier(model_path=None):
    """The song classifier, or None (logged) when it cannot be loaded: lyrics then stay for later."""
    from .lyrics.classifier import load_model

    try:
        return load_model(model_path)
    except Exception as exc:  # noqa: BLE001 - a missing or broken model must not lose crawled lyrics
        if model_path is not None:
            raise
        log.warning("song classifier unavailable (%s): lyrics are kept unlabelled for label_songs", exc)
        return None


def label_lyrics(texts: Mapping[int, str], *, model=None, model_path=None, dry_run: bool = False,
                 skip_unchanged_lyrics: bool = False) -> LabelReport:
    """Store features and ``model`` labels for ``{song_id: lyrics}``; keep the lyrics only if needed.

    ``skip_unchanged_lyrics``: leave songs alone whose stored lyrics hash says these lyrics were
    labelled before (a re-crawl). Runs in the caller's transaction when there is one.
    """
    started = time.perf_counter()
    report = LabelReport(candidates=len(texts))
    rows = {pk: text.strip() for pk, text in texts.items() if text and text.strip()}
    report.blank = len(texts) - len(rows)
    if skip_unchanged_lyrics and rows:
        seen = dict(Song.objects.filter(id__in=rows).values_list("id", "lyrics_sha1"))
        rows = {pk: text for pk, text in rows.items() if seen.get(pk) != lyrics_sha1(text)}
    if not rows:
        report.seconds = time.perf_counter() - started
        return report
    if model is None:
        model = load_classifier(model_path)
    predictions = dict(zip(rows, model.probabilities_many(list(rows.values())))) if model is not None else {}
    report.unlabelled = 0 if model is not None else len(rows)
    with transaction.atomic():
        curated = set(EmotionLabel.objects.filter(song_id__in=rows, source=EmotionLabel.Source.ADMIN)
                      .values_list("song_id", flat=True))
        report.skipped_admin = len(curated)
        existing: dict[int, list[tuple[str, float, dict]]] = {}
        for song_id, emotion, confidence, stored in EmotionLabel.objects.filter(
                song_id__in=predictions, source=EmotionLabel.Source.MODEL).values_list(
                "song_id", "emotion", "confidence", "probabilities"):
            existing.setdefault(song_id, []).append((emotion, confidence, stored))
        changed, new_rows, confidences = [], [], {}
        for song_id, proba in predictions.items():
            if song_id in curated:
                continue
            emotion = max(proba, key=proba.get)
            confidence = min(1.0, max(0.0, float(proba[emotion])))
            confidences[song_id] = confidence
            evidence = {e: round(p, 4) for e, p in proba.items()}
            report.emotions[emotion] += 1
            report.low_confidence += confidence < REVIEW_THRESHOLD
            old = existing.get(song_id, [])
            if len(old) == 1 and old[0][0] == emotion and abs(old[0][1] - confidence) <= CONFIDENCE_TOLERANCE:
                report.unchanged += 1
                if not old[0][2] and not dry_run:  # labelled before probabilities were kept
                    EmotionLabel.objects.filter(song_id=song_id, source=EmotionLabel.Source.MODEL).update(
                        probabilities=evidence)
                    report.evidence_added += 1
                continue
            changed.append(song_id)
            new_rows.append(EmotionLabel(song_id=song_id, emotion=emotion, confidence=confidence,
                                         source=EmotionLabel.Source.MODEL, probabilities=evidence))
        report.labelled = len(new_rows)
        if dry_run:
            report.seconds = time.perf_counter() - started
            return report
        if changed:
            EmotionLabel.objects.filter(song_id__in=changed, source=EmotionLabel.Source.MODEL).delete()
            EmotionLabel.objects.bulk_create(new_rows, batch_size=1000)
        now = timezone.now()
        songs = list(Song.objects.filter(id__in=rows).only("id", "lyrics"))
        for song in songs:
            text = rows[song.id]
            song.lyrics_features = lyrics_evidence(text) or {}
            song.lyrics_sha1 = lyrics_sha1(text)
            song.lyrics_checked_at = now
            keep = keep_lyrics(confidences.get(song.id), song.id in curated)
            song.lyrics = text if keep else ""
            report.lyrics_dropped += not keep
        Song.objects.bulk_update(songs, ["lyrics", "lyrics_features", "lyrics_sha1", "lyrics_checked_at"],
                                 batch_size=500)
        if changed:
            transaction.on_commit(bump_library_version)
    report.seconds = time.perf_counter() - started
    return report


def mark_lyrics_checked(song_ids) -> int:
    """The lyrics spider looked and found none (or an instrumental): not again for a while."""
    return Song.objects.filter(id__in=list(song_ids)).update(lyrics_checked_at=timezone.now())
