"""Label songs from their lyrics with the song classifier (paper section 3.1).

Every active song with lyrics and no admin label gets exactly one ``EmotionLabel(source="model")``:
the classifier's emotion and its probability as the confidence, with every emotion's probability kept
on the label (what the admin's review queue shows), replacing that song's previous model labels.
Admin labels are never written or deleted, and a song with one is skipped. Songs without
lyrics keep whatever labels they have (the catalogue's). Running it twice changes nothing the second
time: a song whose label would not change is not rewritten.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from recommender.models import EmotionLabel, Song

LOW_CONFIDENCE = 0.5  # below this a label is worth an admin's look
CONFIDENCE_TOLERANCE = 1e-6


@dataclass
class LabelReport:
    candidates: int = 0  # active songs with lyrics and no admin label
    labelled: int = 0  # rows written (new or changed)
    unchanged: int = 0
    skipped_admin: int = 0  # gained an admin label while we worked
    blank: int = 0  # lyrics of whitespace only
    low_confidence: int = 0
    evidence_added: int = 0  # unchanged labels that had no stored probabilities yet
    emotions: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self):
        spread = ", ".join(f"{e} {n}" for e, n in self.emotions.most_common())
        return (f"{self.candidates} songs with lyrics and no admin label: {self.labelled} labelled, "
                f"{self.unchanged} unchanged"
                + (f" ({self.evidence_added} given their probabilities)" if self.evidence_added else "")
                + f", {self.skipped_admin} skipped (admin label), {self.blank} blank; "
                f"{self.low_confidence} below {LOW_CONFIDENCE:.0%} confidence; [{spread}] "
                f"in {self.seconds:.1f}s")


def label_songs(batch_size: int = 2000, model_path: Path | None = None, dry_run: bool = False,
                progress=None) -> LabelReport:
    from recommender.lyrics.classifier import load_model

    started = time.perf_counter()
    model = load_model(model_path)
    report = LabelReport()
    candidates = (Song.objects.active().exclude(lyrics="")
                  .exclude(labels__source=EmotionLabel.Source.ADMIN).order_by("id"))
    ids = list(candidates.values_list("id", flat=True))
    report.candidates = len(ids)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        rows = [(pk, lyrics) for pk, lyrics in Song.objects.filter(id__in=chunk).values_list("id", "lyrics")
                if lyrics.strip()]
        report.blank += len(chunk) - len(rows)
        results = model.probabilities_many([lyrics for _pk, lyrics in rows]) if rows else []
        predictions = {pk: proba for (pk, _lyrics), proba in zip(rows, results)}
        with transaction.atomic():
            # An admin may have labelled one of these since the query above: theirs stands.
            admin = set(EmotionLabel.objects.filter(song_id__in=predictions, source=EmotionLabel.Source.ADMIN)
                        .values_list("song_id", flat=True))
            report.skipped_admin += len(admin)
            existing: dict[int, list[tuple[str, float, dict]]] = {}
            for song_id, emotion, confidence, stored in EmotionLabel.objects.filter(
                    song_id__in=predictions, source=EmotionLabel.Source.MODEL).values_list(
                    "song_id", "emotion", "confidence", "probabilities"):
                existing.setdefault(song_id, []).append((emotion, confidence, stored))
            changed, new_rows = [], []
            for song_id, proba in predictions.items():
                if song_id in admin:
                    continue
                emotion = max(proba, key=proba.get)
                confidence = min(1.0, max(0.0, float(proba[emotion])))
                evidence = {e: round(p, 4) for e, p in proba.items()}
                report.emotions[emotion] += 1
                report.low_confidence += confidence < LOW_CONFIDENCE
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
            report.labelled += len(new_rows)
            if not dry_run and changed:
                EmotionLabel.objects.filter(song_id__in=changed, source=EmotionLabel.Source.MODEL).delete()
                EmotionLabel.objects.bulk_create(new_rows, batch_size=1000)
        if progress:
            progress(min(start + batch_size, len(ids)), len(ids), time.perf_counter() - started)
    if report.labelled and not dry_run:
        from recommender.library import bump_library_version

        transaction.on_commit(bump_library_version)
    report.seconds = time.perf_counter() - started
    return report


class Command(BaseCommand):
    help = ("Label active songs that have lyrics and no admin label with the lyrics classifier "
            "(EmotionLabel source=model; admin labels are never touched).")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--model", type=Path, default=None, help="model file (default: the shipped one)")
        parser.add_argument("--dry-run", action="store_true", help="classify and report, write nothing")

    def handle(self, *args, batch_size, model, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if model is not None and not model.exists():
            raise CommandError(f"model file not found: {model}")

        def progress(done, total, seconds):
            self.stdout.write(f"\r  {done}/{total} songs ({seconds:.1f}s)", ending="")
            self.stdout.flush()

        try:
            report = label_songs(batch_size, model, dry_run, progress)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        if report.candidates:
            self.stdout.write("")
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"label_songs: {prefix}{report}"))
