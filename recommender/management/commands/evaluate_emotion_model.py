"""Evaluate an emotion model on a FER2013-style .npz: accuracy, per-class report, confusion matrix."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommender.emotion.evaluate import evaluate_npz, format_report, plot_confusion


class Command(BaseCommand):
    help = "Evaluate the shipped (or a given) emotion model on an .npz with x [N,48,48] uint8 and y [N]."

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, required=True, help="an .npz with arrays x and y")
        parser.add_argument("--model", type=Path, help="a .keras file (default: the shipped model)")
        parser.add_argument("--limit", type=int, help="only the first N images")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--plot", type=Path, help="write the confusion matrix as a PNG here")
        parser.add_argument("--no-tta", action="store_true", help="no test-time flip averaging")

    def handle(self, *args, data, model, limit, json: bool, plot, no_tta, **options):
        from recommender.emotion.predictor import Predictor, default_model_path

        if not data.exists():
            raise CommandError(f"no such file: {data}")
        predictor = Predictor(model or default_model_path(), tta=not no_tta)
        result = evaluate_npz(data, predictor.predict, limit=limit)
        result["model"] = str(model or default_model_path())
        result["data"] = str(data)
        if plot:
            plot_confusion(result, plot, title=f"{data.stem}: accuracy {result['accuracy']:.1%}")
        self.stdout.write(_dumps(result) if json else format_report(result))


def _dumps(result):
    return json.dumps(result, indent=2)
