"""Label songs from their stored lyrics with the song classifier (paper section 3.1).

Crawled lyrics are labelled as they arrive (``recommender.library.ingest_many``); this command
labels the lyrics the library still holds: after a retraining, after lyrics were stored with no
classifier available, or for every song when ``MIEN_STORE_LYRICS`` keeps them all. Each active song
with lyrics and no admin label gets exactly one ``EmotionLabel(source="model")`` through
``recommender.labelling.label_lyrics`` (which also decides whether the lyrics are still needed).
Admin labels are never written or deleted. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommender.labelling import LabelReport, label_lyrics, load_classifier
from recommender.models import EmotionLabel, Song


def label_songs(batch_size: int = 2000, model_path: Path | None = None, dry_run: bool = False,
                progress=None) -> LabelReport:
    started = time.perf_counter()
    model = load_classifier(model_path)
    if model is None:
        raise FileNotFoundError("the song classifier could not be loaded (see the log); "
                                "train it with `python manage.py train_song_classifier`")
    ids = list(Song.objects.active().exclude(lyrics="").exclude(labels__source=EmotionLabel.Source.ADMIN)
               .order_by("id").values_list("id", flat=True))
    report = LabelReport()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        texts = dict(Song.objects.filter(id__in=chunk).values_list("id", "lyrics"))
        report.add(label_lyrics(texts, model=model, dry_run=dry_run))
        if progress:
            progress(min(start + batch_size, len(ids)), len(ids), time.perf_counter() - started)
    report.seconds = time.perf_counter() - started
    return report


class Command(BaseCommand):
    help = ("Label active songs that have stored lyrics and no admin label with the lyrics classifier "
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
