"""Write the song library to an Excel sheet: one row per song (see recommender/spreadsheet.py)."""

from django.core.management.base import BaseCommand

from recommender import spreadsheet
from recommender.models import Song


class Command(BaseCommand):
    help = "Export the song library to FILE.xlsx (id, source, external_id, title, artist, tags, emotion, ...)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--active-only", action="store_true", help="leave out songs removed from the library")

    def handle(self, *args, file, active_only, **options):
        queryset = Song.objects.active() if active_only else Song.objects.all()
        count = spreadsheet.export_library(file, queryset)
        self.stdout.write(self.style.SUCCESS(f"{count} songs written to {file}"))
