"""A weight soup (Wortsman et al., 2022): fine-tunes of one model averaged weight by weight into a single
network, served at one model's cost (pure core, no Django). Averaged batch-norm statistics describe no
network, so the soup's are recomputed on clean training faces (``recalibration``). Greedy: ingredients in
order of their own PublicTest accuracy on the served views (face + mirror), each kept only if the soup
scores no lower with it. PrivateTest is never read here.

    python -m recommender.emotion.soup --ingredient runs/a/best.keras --ingredient runs/b/best.keras \\
        [--greedy] --out runs/soup/best.keras

Writes OUT and OUT's ``.soup.json`` (each ingredient's file, sha256 and accuracy; each step's soup).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .lite import sha256
from .networks import save_atomically
from .pipeline import DEFAULT_DATA_DIR, load_split
from .recalibration import recalibrate_batch_norm


def served_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """PublicTest accuracy on face + mirror averaged, as the shipped model is served."""
    pixels = x[..., None].astype("float32")
    probabilities = (model.predict(pixels, batch_size=256, verbose=0)
                     + model.predict(pixels[:, :, ::-1], batch_size=256, verbose=0))
    return round(float((probabilities.argmax(axis=1) == y).mean()), 5)


def average_into(vessel, models) -> None:
    """Set every weight of ``vessel`` to the mean of that weight over ``models`` (same network, layer by
    layer); ValueError where the models are not the same network."""
    shapes = [[tuple(w.shape) for w in m.weights] for m in models]
    if any(s != shapes[0] for s in shapes) or [tuple(w.shape) for w in vessel.weights] != shapes[0]:
        raise ValueError("a soup needs fine-tunes of one network: these models' weights differ in shape")
    for index, weight in enumerate(vessel.weights):
        weight.assign(np.mean([m.weights[index].numpy() for m in models], axis=0))


def cook(paths: list[Path], x_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, greedy: bool = True):
    """The soup of ``paths`` (greedy: only the ingredients that do not lower PublicTest accuracy) with its
    batch norm recalibrated, and a record of how it was made."""
    import keras

    load = lambda path: keras.saving.load_model(path, compile=False)  # noqa: E731
    models = [load(path) for path in paths]
    if any(m.input_shape[1:3] != x_val.shape[1:3] for m in models):
        raise ValueError(f"a soup is served on {x_val.shape[1]}x{x_val.shape[2]} faces: every ingredient must take them")
    ingredients = [{"file": str(path), "sha256": sha256(path), "public_test_accuracy": served_accuracy(m, x_val, y_val)}
                   for path, m in zip(paths, models)]
    order = sorted(range(len(models)), key=lambda i: -ingredients[i]["public_test_accuracy"])
    vessel, kept, steps = load(paths[order[0]]), [order[0]], []
    best, best_weights = ingredients[order[0]]["public_test_accuracy"], [w.numpy() for w in vessel.weights]
    for addition in ([[i] for i in order[1:]] if greedy else [order[1:]]):  # greedy: one at a time
        trial = kept + addition
        started = time.perf_counter()
        average_into(vessel, [models[i] for i in trial])
        recalibrate_batch_norm(vessel, x_train)
        accuracy = served_accuracy(vessel, x_val, y_val)
        keep = not greedy or accuracy >= best
        steps.append({"ingredients": [ingredients[i]["file"] for i in trial], "public_test_accuracy": accuracy,
                      "kept": keep, "seconds": round(time.perf_counter() - started, 1)})
        print(f"soup of {len(trial)}: PublicTest {accuracy:.4f} (two views) -> {'kept' if keep else 'dropped'}",
              flush=True)
        if keep:
            kept, best, best_weights = trial, accuracy, [w.numpy() for w in vessel.weights]
    for weight, value in zip(vessel.weights, best_weights):  # the last soup kept (or the best ingredient)
        weight.assign(value)
    record = {"greedy": greedy, "ingredients": ingredients, "steps": steps,
              "kept": [ingredients[i]["file"] for i in kept], "public_test_accuracy": best,
              "recalibrated_on_training_faces": int(len(x_train)) if len(kept) > 1 else 0}
    return vessel, record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingredient", type=Path, action="append", required=True, metavar="MODEL.keras")
    parser.add_argument("--greedy", action="store_true", help="keep an ingredient only if the soup scores no lower")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if len(args.ingredient) < 2:
        parser.error("a soup needs at least two ingredients")
    x_train, _ = load_split(args.data_dir, "train")
    x_val, y_val = load_split(args.data_dir, "public_test")
    soup, record = cook(args.ingredient, x_train, x_val, y_val, greedy=args.greedy)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(soup, args.out)
    args.out.with_suffix(".soup.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}: {len(record['kept'])} of {len(args.ingredient)} ingredients, "
          f"PublicTest {record['public_test_accuracy']:.4f} (two views)")


if __name__ == "__main__":
    main()
