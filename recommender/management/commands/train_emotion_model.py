"""Train an emotion network on FER2013: resumable, checkpointed every epoch."""

from django.core.management.base import BaseCommand

from recommender.emotion import train


class Command(BaseCommand):
    help = "Train an emotion network on FER2013 (train split; chosen on PublicTest). Resumable with --resume."

    def add_arguments(self, parser):
        train.add_arguments(parser)

    def handle(self, *args, **options):
        from argparse import Namespace

        # Every option train.add_arguments defines, as the module's own command line would pass them.
        train.run_from_args(Namespace(**options))
