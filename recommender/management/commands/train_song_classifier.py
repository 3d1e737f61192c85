"""Retrain the lyrics classifier from the text emotion data plus admin-curated song labels.

Wraps ``python -m recommender.lyrics.train``: every song with lyrics and an admin label adds its lyrics
to the training split of its language (one example per song: its most confident admin label), unless
the same text is in dev or test. By default the result replaces the shipped model file; run
``label_songs`` afterwards to relabel the library with it.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommender.models import EmotionLabel


def admin_examples() -> list[tuple[str, str, None]]:
    """(lyrics, emotion, None) for each song with lyrics and an admin label."""
    from recommender.lyrics.labels import EMOTION_INDEX

    best: dict[int, tuple[float, int, str, str]] = {}
    rows = (EmotionLabel.objects.filter(source=EmotionLabel.Source.ADMIN).exclude(song__lyrics="")
            .values_list("song_id", "emotion", "confidence", "song__lyrics"))
    for song_id, emotion, confidence, lyrics in rows:
        if not lyrics.strip():
            continue
        key = (confidence, -EMOTION_INDEX[emotion], emotion, lyrics)
        if song_id not in best or key > best[song_id]:
            best[song_id] = key
    return [(lyrics, emotion, None) for _c, _i, emotion, lyrics in (best[k] for k in sorted(best))]


class Command(BaseCommand):
    help = ("Train the song emotion classifier (hierarchical SVM vs flat SVM vs lexicon baseline) on the "
            "text emotion data plus admin-labelled songs' lyrics, and save the best.")

    def add_arguments(self, parser):
        from recommender.lyrics.classifier import MODEL_PATH
        from recommender.lyrics.data import default_data_dir

        parser.add_argument("--data", type=Path, default=None,
                            help=f"text_emotion folder (default: $MIEN_TEXT_EMOTION_DIR or {default_data_dir()})")
        parser.add_argument("--langs", nargs="+", choices=("en", "zh"), default=["en", "zh"])
        parser.add_argument("--kind", choices=("liblinear", "libsvm"), default="liblinear")
        parser.add_argument("--C", type=float, nargs="+", default=None, dest="c_grid")
        parser.add_argument("--output", type=Path, default=MODEL_PATH)
        parser.add_argument("--max-train", type=int, default=None, help="subsample train (quick runs only)")
        parser.add_argument("--no-admin", action="store_true", help="ignore admin-labelled songs")

    def handle(self, *args, data, langs, kind, c_grid, output, max_train, no_admin, **options):
        from recommender.lyrics import train as training
        from recommender.lyrics.classifier import MODEL_PATH, reset_model

        extra = [] if no_admin else admin_examples()
        self.stdout.write(f"admin-labelled songs with lyrics: {len(extra)}"
                          + (" (ignored)" if no_admin else ""))
        command = "python manage.py train_song_classifier " + " ".join(
            part for part in (f"--langs {' '.join(langs)}", f"--kind {kind}",
                              f"--C {' '.join(map(str, c_grid))}" if c_grid else "",
                              f"--max-train {max_train}" if max_train else "", "--no-admin" if no_admin else "")
            if part)
        try:
            training.train(data, langs, extra=extra, kind=kind, c_grid=tuple(c_grid or training.C_GRID),
                           output=output, max_train=max_train, log=self.stdout.write, command=command)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        if Path(output).resolve() == MODEL_PATH.resolve():
            reset_model()
        self.stdout.write(self.style.SUCCESS(f"train_song_classifier: saved {output}; "
                                             "run `python manage.py label_songs` to relabel the library"))
