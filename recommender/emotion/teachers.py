"""Teachers: each trained model's predictions on train and PublicTest, cached once (pure core, no Django).

A lever run's weights live in ``runs/``, which a fresh machine does not have, so a model trained in one
session could not be averaged with or distilled from in the next. Its served predictions (float16, about
0.3 MB) are committed here instead: any set of teachers can then be averaged on PublicTest at once, and a
student trained on their mean (``train --distil``) on whatever machine a later session gets. PrivateTest
is never predicted here.

    python -m recommender.emotion.teachers record shipped=recommender/emotion/weights/emotion_model.keras
    python -m recommender.emotion.teachers ensemble            # every subset of the recorded teachers
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
from datetime import date
from pathlib import Path

import numpy as np

from .labels import EMOTIONS

TEACHERS_DIR = Path(__file__).resolve().parent / "weights" / "teachers"
SPLITS = ("train", "public_test")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
NUM_CLASSES = len(EMOTIONS)


def _check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"teacher name {name!r}: use lower-case letters, digits, '_', '.', '-' (at most 64)")
    return name


def record(name: str, model_path: Path, data_dir: Path, teachers_dir: Path = TEACHERS_DIR,
           views: int | None = None) -> dict:
    """Predict train and PublicTest with the model as it is served (its recipe's views) and keep both."""
    from .evaluate import report
    from .lite import ensure_converted
    from .pipeline import load_split
    from .predictor import Predictor, median_ms

    _check_name(name)
    ensure_converted(model_path)  # predicted and timed on the runtime the shipped model is served on
    predictor = Predictor(model_path, views=views, runtime="litert")
    arrays, meta = {}, {"name": name, "model": str(model_path), "views": predictor.views,
                        "model_sha256": hashlib.sha256(Path(model_path).read_bytes()).hexdigest(),
                        "recorded": date.today().isoformat()}
    for split in SPLITS:
        x, y = load_split(data_dir, split)
        probabilities = predictor.predict(x)
        # The labels travel with the predictions: a reordered or filtered split would otherwise pair
        # them with the wrong faces without a sound.
        arrays[split], arrays[f"{split}_labels"] = probabilities.astype(np.float16), y.astype(np.uint8)
        result = report(y, probabilities)
        meta[split] = {"rows": len(y), "accuracy": result["accuracy"], "macro_recall": result["macro_recall"]}
        print(f"{name}: {split} {len(y)} faces, accuracy {result['accuracy']:.4f}", flush=True)
    meta["one_face_ms"] = round(median_ms(lambda: predictor.predict(x[:1])), 2)
    teachers_dir = Path(teachers_dir)
    teachers_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(teachers_dir / f"{name}.npz", **arrays)
    (teachers_dir / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def recorded(teachers_dir: Path = TEACHERS_DIR) -> dict[str, dict]:
    """name -> its metadata, for every teacher on disk, by name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(teachers_dir).glob("*.json"))}


def predictions(names: list[str], split: str, y: np.ndarray, teachers_dir: Path = TEACHERS_DIR) -> np.ndarray:
    """The named teachers' mean probabilities on ``split`` [N,7] float32, checked against its labels ``y``
    (the first len(y) rows, so a ``--limit`` smoke run pairs the right faces)."""
    if not names:
        raise ValueError("name at least one teacher")
    if split not in SPLITS:
        raise ValueError(f"teachers predict {', '.join(SPLITS)} only, not {split!r}")
    total = None
    for name in names:
        meta_path = Path(teachers_dir) / f"{_check_name(name)}.json"
        if not meta_path.exists():
            known = ", ".join(recorded(teachers_dir)) or "none"
            raise FileNotFoundError(f"no teacher {name!r} in {teachers_dir} (recorded: {known})")
        with np.load(meta_path.with_suffix(".npz")) as data:
            p, labels = data[split].astype(np.float32), data[f"{split}_labels"]
        if len(y) > len(labels) or not np.array_equal(labels[:len(y)], y):
            raise ValueError(f"teacher {name!r} predicted another {split} split ({len(labels)} rows whose labels "
                             "differ from these); record it again on this data")
        p = p[:len(y)]
        total = p if total is None else total + p
    mean = total / len(names)
    return mean / mean.sum(axis=1, keepdims=True)


def distillation_targets(teacher: np.ndarray, y: np.ndarray, weight: float, label_smoothing: float) -> np.ndarray:
    """(1 - weight) * smoothed one-hot(y) + weight * the teachers' probabilities: the student learns the
    labels and, where the teachers hesitate between classes, their hesitation."""
    if not 0 < weight <= 1:
        raise ValueError(f"the distillation weight must be in (0, 1], not {weight}")
    hard = np.eye(NUM_CLASSES, dtype=np.float32)[y] * (1 - label_smoothing) + label_smoothing / NUM_CLASSES
    return ((1 - weight) * hard + weight * teacher).astype(np.float32)


def ensembles(names: list[str], data_dir: Path, teachers_dir: Path = TEACHERS_DIR) -> list[dict]:
    """PublicTest accuracy of every subset of the named teachers, their probabilities averaged; the
    one-face latency is the members' recorded ones added (one thread, one after the other)."""
    from .evaluate import report
    from .pipeline import load_split

    _, y = load_split(data_dir, "public_test")
    metas = recorded(teachers_dir)
    rows = []
    for size in range(1, len(names) + 1):
        for members in itertools.combinations(names, size):
            result = report(y, predictions(list(members), "public_test", y, teachers_dir))
            rows.append({"teachers": "+".join(members), "public_test_accuracy": result["accuracy"],
                         "public_test_macro_recall": result["macro_recall"],
                         "one_face_ms": round(sum(metas[m]["one_face_ms"] for m in members), 2)})
    return sorted(rows, key=lambda r: -r["public_test_accuracy"])


def main(argv=None):
    import os

    from .pipeline import DEFAULT_DATA_DIR

    # one_face_ms is a serving latency: one thread, as served and as choose.py measures it.
    os.environ.setdefault("MIEN_TF_THREADS", "1")

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="predict train and PublicTest with each model and keep the predictions")
    rec.add_argument("models", nargs="+", metavar="NAME=PATH")
    rec.add_argument("--views", type=int, help="views per face (default: as the model is served)")
    ens = sub.add_parser("ensemble", help="PublicTest accuracy of every subset of recorded teachers")
    ens.add_argument("names", nargs="*", help="teachers to combine (default: all recorded)")
    for p in (rec, ens):
        p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        p.add_argument("--teachers-dir", type=Path, default=TEACHERS_DIR)
    args = parser.parse_args(argv)
    if args.command == "record":
        for item in args.models:
            name, sep, path = item.partition("=")
            if not sep:
                parser.error(f"{item!r}: write NAME=PATH")
            record(name, Path(path), args.data_dir, args.teachers_dir, args.views)
        return
    names = args.names or list(recorded(args.teachers_dir))
    rows = ensembles(names, args.data_dir, args.teachers_dir)
    print(f"{'teachers':<48}{'PublicTest':>12}{'macro rec.':>12}{'ms':>8}")
    for r in rows:
        print(f"{r['teachers']:<48}{r['public_test_accuracy']:>12.4f}{r['public_test_macro_recall']:>12.4f}"
              f"{r['one_face_ms']:>8.2f}")
    print(f"{len(rows)} combinations of {len(names)} teachers")


if __name__ == "__main__":
    main()
