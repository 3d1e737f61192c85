"""Apply an edited Excel export: every row checked first, then all of it or none of it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from recommender import spreadsheet


class Command(BaseCommand):
    help = ("Import FILE.xlsx made by export_library: edited titles, artists and tags are applied, an edited "
            "emotion becomes an admin label with history. Nothing is written unless every row is valid.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="username recorded as the curator in the label history")

    def handle(self, *args, file, user, **options):
        curator = None
        if user:
            curator = get_user_model().objects.filter(username=user).first()
            if curator is None:
                raise CommandError(f"no user named {user!r}")
        try:
            report = spreadsheet.import_library(file, user=curator)
        except spreadsheet.LibraryImportError as error:
            for row, reason in error.errors:
                self.stderr.write(f"row {row}: {reason}")
            raise CommandError(f"{len(error.errors)} bad row(s) in {file}; nothing was written") from None
        except FileNotFoundError:
            raise CommandError(f"file not found: {file}") from None
        self.stdout.write(self.style.SUCCESS(str(report)))
