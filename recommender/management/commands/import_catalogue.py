"""Load the bundled song catalogue (idempotent: run it twice, get the same library)."""

import gzip
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommender.library import ingest_many
from recommender.models import Song

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "catalogue"
BATCH = 2000


class Command(BaseCommand):
    help = "Load the bundled song catalogue (recommender/catalogue/songs.jsonl.gz) into the library."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=CATALOGUE_DIR / "songs.jsonl.gz")
        parser.add_argument("--tags", type=Path, default=CATALOGUE_DIR / "tags.json")

    def handle(self, *args, file, tags, **options):
        if not file.exists():
            raise CommandError(f"catalogue file not found: {file}")
        tag_info = json.loads(tags.read_text(encoding="utf-8")) if tags.exists() else {}
        started = time.perf_counter()
        with gzip.open(file, "rt", encoding="utf-8") as handle:
            items = [json.loads(line) for line in handle if line.strip()]
        before = Song.objects.count()
        totals = {"created": 0, "updated": 0, "merged": 0, "dropped": 0}
        for start in range(0, len(items), BATCH):
            report = ingest_many(items[start:start + BATCH], tag_info=tag_info)
            for key in ("created", "updated", "merged"):
                totals[key] += getattr(report, key)
            totals["dropped"] += len(report.dropped)
            done = min(start + BATCH, len(items))
            self.stdout.write(f"\r  {done}/{len(items)} songs", ending="")
            self.stdout.flush()
        self.stdout.write("")
        after = Song.objects.count()
        self.stdout.write(self.style.SUCCESS(
            f"catalogue: {len(items)} entries -> {totals['created']} new, {totals['updated']} updated, "
            f"{totals['merged']} merged, {totals['dropped']} dropped; library {before} -> {after} songs "
            f"in {time.perf_counter() - started:.1f}s"))
