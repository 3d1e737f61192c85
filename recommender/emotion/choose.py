"""Choose what to serve on PublicTest: candidate models x test-time views (and ensembles of them averaged),
each with its one-face latency on one CPU thread. PrivateTest is never read here.

    python -m recommender.emotion.choose --candidate shipped=recommender/emotion/weights/emotion_model.keras \\
        --candidate crop40=runs/crop40_warm20/best.keras [--budget-ms 10] [--out levers.json]

Prints a table (candidate, views, PublicTest accuracy and macro recall, median ms for one face, and the
faces each row gets right and wrong that the incumbent does not, with McNemar's exact p) and the best row
within the budget; ``--out`` keeps the table for the model card's lever section. The incumbent is the first
candidate on the views it is served on: the shipped model, in every lever run so far.
"""

from __future__ import annotations

import os

os.environ.setdefault("MIEN_TF_THREADS", "1")  # latency is measured on one thread, as it is served

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from .evaluate import report  # noqa: E402
from .pipeline import DEFAULT_DATA_DIR, load_split  # noqa: E402
from .predictor import median_ms  # noqa: E402

BUDGET_MS = 10.0


def view_counts(size: int) -> list[int]:
    """The views a model of this input size can serve: corners only where it is smaller than the face."""
    return [1, 2] if size == 48 else [1, 2, 5, 10]


def paired_with(correct, incumbent_correct) -> dict:
    """How a row differs from the incumbent face by face on the same split: faces it alone gets right
    (gained), faces only the incumbent gets right (lost), and McNemar's exact two-sided p for that split.
    Both are scored on the same faces, so this sees a difference the two accuracies' own errors hide."""
    from scipy.stats import binomtest

    gained = int(np.sum(correct & ~incumbent_correct))
    lost = int(np.sum(~correct & incumbent_correct))
    p = binomtest(gained, gained + lost, 0.5).pvalue if gained + lost else 1.0
    return {"faces_gained": gained, "faces_lost": lost, "mcnemar_p": round(float(p), 4)}


def measure(candidates: dict[str, Path], data_dir: Path = DEFAULT_DATA_DIR, members: int = 2) -> list[dict]:
    """Every candidate on every view count it can serve, then every ensemble of 2..``members`` distinct
    candidates (each on one of its view counts), probabilities averaged; 1 = single models only. Each row
    is paired with the incumbent (the first candidate on its served views): see ``paired_with``."""
    from .lite import ensure_converted
    from .predictor import Predictor, serving_views

    x, y = load_split(data_dir, "public_test")
    face = x[:1]
    rows, outputs = [], {}
    incumbent = None
    for name, path in candidates.items():
        ensure_converted(path)  # every candidate timed on the runtime the shipped model is served on
        predictor = Predictor(path, views=1, runtime="litert")  # its input size says which views fit
        incumbent = incumbent or (name, serving_views(path, predictor.input_size))
        for views in view_counts(predictor.input_size):
            predictor = predictor if views == predictor.views else Predictor(path, views=views, runtime="litert")
            probabilities = predictor.predict(x)
            result = report(y, probabilities)
            ms = median_ms(lambda: predictor.predict(face))
            outputs[(name, views)] = (probabilities, ms)
            rows.append({"candidate": name, "views": views, "public_test_accuracy": result["accuracy"],
                         "public_test_macro_recall": result["macro_recall"], "one_face_ms": round(ms, 2),
                         "predictions": probabilities.argmax(axis=1)})
            print(f"{name:<24} {views:>3} views  PublicTest {result['accuracy']:.4f}  "
                  f"macro recall {result['macro_recall']:.4f}  {ms:6.2f} ms", flush=True)
    for size in range(2, min(members, len(candidates)) + 1):
        for combo in itertools.combinations(outputs.items(), size):
            if len({name for (name, _), _ in combo}) < size:
                continue  # two view sets of the same model: not an ensemble
            probabilities = sum(p for _, (p, _) in combo) / size
            result = report(y, probabilities)
            ms = sum(ms for _, (_, ms) in combo)  # the members one after the other, on one thread
            rows.append({"candidate": "+".join(name for (name, _), _ in combo),
                         "views": "+".join(str(views) for (_, views), _ in combo),
                         "public_test_accuracy": result["accuracy"], "public_test_macro_recall": result["macro_recall"],
                         "one_face_ms": round(ms, 2), "predictions": probabilities.argmax(axis=1)})
    incumbent_correct = outputs[incumbent][0].argmax(axis=1) == y
    for row in rows:
        row.update(paired_with(row.pop("predictions") == y, incumbent_correct))
    return rows


def best_within(rows: list[dict], budget_ms: float = BUDGET_MS) -> dict | None:
    """Highest PublicTest accuracy whose one-face latency fits the budget (macro recall breaks ties)."""
    fitting = [r for r in rows if r["one_face_ms"] <= budget_ms]
    return max(fitting, key=lambda r: (r["public_test_accuracy"], r["public_test_macro_recall"]), default=None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS)
    parser.add_argument("--members", type=int, default=2,
                        help="largest ensemble to try (default 2: pairs; 1: single models only)")
    parser.add_argument("--out", type=Path, help="write the table (and the choice) as JSON")
    args = parser.parse_args(argv)
    candidates = dict(item.split("=", 1) for item in args.candidate)
    rows = measure({name: Path(path) for name, path in candidates.items()}, args.data_dir, args.members)
    chosen = best_within(rows, args.budget_ms)
    print(f"\n{'candidate':<40}{'views':>8}{'PublicTest':>12}{'macro rec.':>12}{'ms':>8}{'+/- faces':>12}{'p':>8}")
    for r in sorted(rows, key=lambda r: -r["public_test_accuracy"]):
        mark = "  <- chosen" if r is chosen else ""
        print(f"{r['candidate']:<40}{str(r['views']):>8}{r['public_test_accuracy']:>12.4f}"
              f"{r['public_test_macro_recall']:>12.4f}{r['one_face_ms']:>8.2f}"
              f"{'+%d/-%d' % (r['faces_gained'], r['faces_lost']):>12}{r['mcnemar_p']:>8.3f}{mark}")
    if args.out:
        args.out.write_text(json.dumps({"budget_ms": args.budget_ms, "candidates": candidates,
                                        "incumbent": next(iter(candidates)),
                                        "rows": rows, "chosen": chosen}, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
