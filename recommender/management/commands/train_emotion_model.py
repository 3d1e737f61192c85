"""Train an emotion network on FER2013: resumable, checkpointed every epoch."""

from django.core.management.base import BaseCommand

from recommender.emotion import train


class Command(BaseCommand):
    help = "Train an emotion network on FER2013 (train split; chosen on PublicTest). Resumable with --resume."

    def add_arguments(self, parser):
        train.add_arguments(parser)

    def handle(self, *args, **options):
        from argparse import Namespace

        keys = ("arch", "epochs", "resume", "data_dir", "runs_dir", "limit", "batch_size", "learning_rate", "export",
                "run_name", "init_from", "equalize", "crop", "mixup", "ferplus", "precision")
        train.run_from_args(Namespace(**{k: options[k] for k in keys}))
