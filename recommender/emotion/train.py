"""Resumable training of the emotion networks on FER2013 (pure core, no Django).

Reads as data -> augmentation -> model -> training -> export. Every epoch writes a full
checkpoint (model + optimizer state, so the learning-rate schedule resumes exactly), appends a
row to history.csv, redraws the curves and keeps the best model by PublicTest accuracy.
PrivateTest is never touched here: it is for ``evaluate`` on the shipped model only.

    python -m recommender.emotion.train --arch mien_vgg --epochs 30 [--resume]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .networks import save_atomically
from .pipeline import (DEFAULT_DATA_DIR, class_weights, ferplus_targets, load_split, train_dataset,
                       training_precision, validation_data)
from .recalibration import RECORD as RECALIBRATION_RECORD, recalibrate_best
from .recipe import Recipe
from .stages import lineage_history, read_history, training_stages, write_history_row

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUNS_DIR = REPO_ROOT / "runs"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


# ---------------------------------------------------------------- data (pipeline.py)

__all__ = ["Recipe", "load_split", "class_weights", "train", "export", "read_history"]


# ---------------------------------------------------------------- model + optimiser

def compile_model(model, recipe: Recipe, steps_per_epoch: int):
    import keras

    total = recipe.epochs * steps_per_epoch
    warmup = int(recipe.warmup_epochs * steps_per_epoch)
    if recipe.optimizer == "adam":
        optimizer = keras.optimizers.Adam(recipe.learning_rate)
    else:
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=recipe.learning_rate / 10 if warmup else recipe.learning_rate,
            decay_steps=max(total - warmup, 1),
            alpha=0.01,
            warmup_target=recipe.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
        # Polyak averaging: the optimizer keeps the average beside the weights (and in checkpoints).
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay,
                                           use_ema=recipe.ema > 0, ema_momentum=recipe.ema or 0.99)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


# ---------------------------------------------------------------- run

def train(arch: str, epochs: int, *, resume: bool = False, data_dir: Path = DEFAULT_DATA_DIR,
          runs_dir: Path = DEFAULT_RUNS_DIR, run_name: str | None = None, limit: int | None = None,
          verbose: int | None = None, teachers_dir: Path | None = None, **overrides) -> dict:
    """Train (or resume) one run in ``runs_dir/(run_name or arch)``; returns the summary dict.

    ``init_from`` (an override) starts from another model's weights with a fresh schedule: a
    warm restart, which is how a CPU-bound run is extended without redoing its first epochs.
    """
    import keras

    from . import networks
    from .evaluate import plot_history

    run_dir = Path(runs_dir) / (run_name or arch)
    recipe_path, last_path, best_path = run_dir / "recipe.json", run_dir / "last.keras", run_dir / "best.keras"
    history_path = run_dir / "history.csv"

    if resume and recipe_path.exists():
        stored = json.loads(recipe_path.read_text())
        stored.setdefault("equalize", False)  # runs recorded before the field existed trained on raw rows
        recipe = Recipe(**stored)
        if epochs != recipe.epochs:
            if recipe.optimizer != "adam":
                raise ValueError(f"--resume keeps the recipe's {recipe.epochs} epochs (the schedule depends on it)")
            # A constant learning rate (the paper's recipe) depends on no end: the run can be extended.
            recipe = replace(recipe, epochs=epochs)
            recipe_path.write_text(json.dumps(asdict(recipe), indent=2))
        if overrides.get("recalibrate_bn") and not recipe.recalibrate_bn:
            # A step after the schedule, not part of it: a finished run can take it on.
            recipe = replace(recipe, recalibrate_bn=True)
            recipe_path.write_text(json.dumps(asdict(recipe), indent=2))
    else:
        if run_dir.exists() and any(run_dir.iterdir()) and not resume:
            raise FileExistsError(f"{run_dir} holds a run already: pass --resume, or remove it")
        precision = training_precision(overrides.pop("precision", None) or "auto")
        recipe = Recipe.for_arch(arch, epochs, precision=precision, **overrides)
        run_dir.mkdir(parents=True, exist_ok=True)
        recipe_path.write_text(json.dumps(asdict(recipe), indent=2))

    keras.utils.set_random_seed(recipe.seed)
    # The policy is the recipe's, so a resumed run computes as it started (checked against this CPU).
    keras.mixed_precision.set_global_policy(recipe.precision)
    x_train, y_train = load_split(data_dir, "train")
    x_val, y_val = load_split(data_dir, "public_test")
    if limit:
        x_train, y_train, x_val, y_val = x_train[:limit], y_train[:limit], x_val[:limit], y_val[:limit]
    soft_targets = None
    if recipe.ferplus > 0:
        soft_targets, keep = ferplus_targets(data_dir, "train", y_train, recipe.ferplus)
        soft_targets, keep = soft_targets[:len(y_train)], keep[:len(y_train)]
        print(f"FER+ votes blended at {recipe.ferplus}: {int((~keep).sum())} low-vote rows dropped", flush=True)
        x_train, y_train, soft_targets = x_train[keep], y_train[keep], soft_targets[keep]
    if recipe.distil:
        from .teachers import TEACHERS_DIR, distillation_targets, predictions

        teacher = predictions(recipe.distil, "train", y_train, teachers_dir or TEACHERS_DIR)
        soft_targets = distillation_targets(teacher, y_train, recipe.distil_weight, recipe.label_smoothing)
        print(f"distilling from {'+'.join(recipe.distil)} at {recipe.distil_weight}", flush=True)
    if recipe.equalize:
        from .faces import equalize

        x_train, x_val = equalize(x_train), equalize(x_val)

    train_data, steps = train_dataset(
        x_train, y_train, batch_size=recipe.batch_size, crop=recipe.crop, augment=recipe.augment,
        label_smoothing=recipe.label_smoothing, mixup=recipe.mixup,
        weights=class_weights(y_train, recipe.class_weight_power), seed=recipe.seed, soft_targets=soft_targets)
    val_data = validation_data(x_val, y_val, recipe.crop)

    initial_epoch, best_acc = 0, -1.0
    if resume and last_path.exists():
        model = keras.saving.load_model(last_path)
        rows = read_history(history_path)
        initial_epoch = len(rows)
        best_acc = max((float(r["val_accuracy"]) for r in rows), default=-1.0)
        print(f"resuming {arch} at epoch {initial_epoch + 1}/{recipe.epochs} (best PublicTest {best_acc:.4f})")
    else:
        model = networks.build(arch, input_size=recipe.crop)
        if recipe.init_from:  # the same net, or a wider one computing the same function (Net2WiderNet)
            networks.widen(keras.saving.load_model(recipe.init_from, compile=False), model, seed=recipe.seed)
        model = compile_model(model, recipe, steps)
        history_path.unlink(missing_ok=True)
    if initial_epoch >= recipe.epochs:
        print("run already complete")
        keras.mixed_precision.set_global_policy("float32")  # the process default, as after training
        if recipe.recalibrate_bn:
            recalibrate_best(run_dir, recipe.crop, x_train, x_val, y_val)
        return summarise(run_dir, recipe)

    class Checkpoint(keras.callbacks.Callback):
        """History row and a full checkpoint (the trained weights, the optimizer and its average)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self.started, 1)}
            row.update({k: round(float(v), 5) for k, v in (logs or {}).items()})
            row["learning_rate"] = float(keras.ops.convert_to_numpy(
                self.model.optimizer.learning_rate))
            write_history_row(history_path, row)
            save_atomically(self.model, last_path)

    class BestModel(keras.callbacks.Callback):
        """The best model by PublicTest accuracy, and the curves."""

        def on_epoch_end(self, epoch, logs=None):
            nonlocal best_acc
            val_accuracy = round(float(logs["val_accuracy"]), 5)
            if val_accuracy > best_acc:
                best_acc = val_accuracy
                save_atomically(self.model, best_path)
                (run_dir / RECALIBRATION_RECORD).unlink(missing_ok=True)  # a new best: not recalibrated yet
            rows = read_history(history_path)
            plot_history(rows, run_dir / "curves.png", title=arch)
            print(f"epoch {epoch + 1}/{recipe.epochs}: PublicTest acc {val_accuracy:.4f} "
                  f"(best {best_acc:.4f}), {rows[-1]['seconds']}s", flush=True)

    callbacks = [Checkpoint(), BestModel()]
    if recipe.ema:
        # Validation sees the averaged weights; the checkpoint keeps the trained ones (so a resumed run
        # goes on exactly), then the average is swapped in for the best model until the next epoch.
        callbacks.insert(1, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))

    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    try:
        model.fit(train_data, validation_data=val_data, epochs=recipe.epochs, initial_epoch=initial_epoch,
                  callbacks=callbacks, verbose=verbose)
    finally:
        keras.mixed_precision.set_global_policy("float32")  # the process default, for whoever runs next
    if recipe.recalibrate_bn:
        recalibrate_best(run_dir, recipe.crop, x_train, x_val, y_val)
    return summarise(run_dir, recipe)


def summarise(run_dir: Path, recipe: Recipe) -> dict:
    rows = read_history(run_dir / "history.csv")
    best = max(rows, key=lambda r: float(r["val_accuracy"])) if rows else None
    summary = {
        "arch": recipe.arch,
        "epochs_done": len(rows),
        "epochs_planned": recipe.epochs,
        "best_epoch": int(best["epoch"]) if best else None,
        "best_public_test_accuracy": float(best["val_accuracy"]) if best else None,
        "train_seconds": round(sum(float(r["seconds"]) for r in rows), 1),
        "recipe": asdict(recipe),
    }
    if (run_dir / RECALIBRATION_RECORD).exists():
        summary["batch_norm_recalibration"] = json.loads((run_dir / RECALIBRATION_RECORD).read_text())
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "recipe"}, indent=2))
    return summary


def export(arch: str, runs_dir: Path = DEFAULT_RUNS_DIR, weights_dir: Path = WEIGHTS_DIR,
           run_name: str | None = None) -> Path:
    """Copy a run's best model (chosen on PublicTest) and its history into the shipped weights."""
    run_dir = Path(runs_dir) / (run_name or arch)
    weights_dir.mkdir(parents=True, exist_ok=True)
    target = weights_dir / ("emotion_model.keras" if arch != "paper" else "paper_cnn.keras")
    stem = target.stem
    import keras

    from .evaluate import plot_history
    from .lite import as_float32, convert

    # Ship weights without the optimizer state (a third of the size: loaded uncompiled), in float32
    # throughout: a bfloat16-trained model serves in float32 (its variables were float32 all along).
    recipe = Recipe(**{"equalize": False, **json.loads((run_dir / "recipe.json").read_text())})
    as_float32(keras.saving.load_model(run_dir / "best.keras", compile=False)).save(target)
    convert(target)  # served through LiteRT (predictor.py)
    history = lineage_history(run_dir, recipe)
    history_path = weights_dir / f"{stem}.history.csv"
    history_path.unlink(missing_ok=True)
    for row in history:
        write_history_row(history_path, row)
    if history:
        plot_history(history, weights_dir / f"{stem}.curves.png", title=arch)
    summary = summarise(run_dir, recipe)
    summary["stages"] = training_stages(recipe) + [{"recipe": asdict(recipe), "epochs": summary["epochs_done"]}]
    earlier = len(history) - summary["epochs_done"]
    if earlier:  # count every stage: epochs, the chosen epoch's number, and time
        summary.update(epochs_done=len(history), best_epoch=summary["best_epoch"] + earlier,
                       warm_start_epochs=earlier,
                       train_seconds=round(sum(float(r["seconds"]) for r in history), 1))
        if len(summary["stages"]) > 1:  # so the card can say how the earlier stage was trained
            summary["warm_start_recipe"] = summary["stages"][-2]["recipe"]
    (weights_dir / f"{stem}.summary.json").write_text(json.dumps(summary, indent=2))
    (weights_dir / f"{stem}.recipe.json").write_text(json.dumps(asdict(recipe), indent=2))
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    run_from_args(args)


def add_arguments(parser):
    from .networks import ARCHITECTURES

    parser.add_argument("--arch", required=True, choices=sorted(ARCHITECTURES))
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--resume", action="store_true", help="continue the run in RUNS_DIR/ARCH")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    parser.add_argument("--run-name", help="folder under RUNS_DIR (default: the architecture's name)")
    parser.add_argument("--init-from", help="start from this .keras model's weights (warm restart; "
                        "a wider mien_vgg starts computing what the narrower one did)")
    parser.add_argument("--equalize", action=argparse.BooleanOptionalAction, default=None,
                        help="histogram-equalise training rows (default on; match the init model's inputs)")
    parser.add_argument("--limit", type=int, help="use only the first N images of each split (smoke runs)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--crop", type=int, help="train on random CROP x CROP windows of the 48x48 face "
                        "(40 in the published records); served on ten crops")
    parser.add_argument("--mixup", type=float, help="mixup's Beta(alpha, alpha); 0 = off (default)")
    parser.add_argument("--ferplus", type=float, help="blend FER+'s vote distribution into the targets "
                        "(0-1; replaces label smoothing) and drop rows with under 4 votes for the 7 classes")
    parser.add_argument("--distil", nargs="+", metavar="TEACHER",
                        help="train on the named teachers' mean predictions blended into the targets "
                        "(record them first: python -m recommender.emotion.teachers record)")
    parser.add_argument("--distil-weight", type=float, help="the teachers' share of the targets (default 0.5)")
    parser.add_argument("--seed", type=int, help="random seed of weights, shuffling and augmentation "
                        "(default 1234; vary it to train independent members of an ensemble)")
    parser.add_argument("--ema", type=float, help="validate and ship an exponential moving average of the "
                        "weights with this momentum (e.g. 0.999, about the last 1000 steps); 0 = off (default)")
    parser.add_argument("--recalibrate-bn", action="store_true", default=None,
                        help="after training, recompute the best model's batch-norm statistics on the clean "
                        "training faces (mixup and augmentation skew them)")
    parser.add_argument("--precision", choices=["auto", "float32", "mixed_bfloat16"],
                        help="training dtype policy (default auto: bfloat16 where the CPU has AMX/AVX512-BF16)")
    parser.add_argument("--export", action="store_true", help="copy the best model into the shipped weights")


def run_from_args(args):
    summary = train(args.arch, args.epochs, resume=args.resume, data_dir=args.data_dir,
                    runs_dir=args.runs_dir, run_name=args.run_name, limit=args.limit,
                    batch_size=args.batch_size, learning_rate=args.learning_rate,
                    init_from=args.init_from, equalize=args.equalize, crop=args.crop, mixup=args.mixup,
                    ferplus=args.ferplus, distil=args.distil, distil_weight=args.distil_weight,
                    seed=args.seed, ema=args.ema, recalibrate_bn=args.recalibrate_bn,
                    precision=args.precision)
    if args.export:
        print(f"exported {export(args.arch, args.runs_dir, run_name=args.run_name)}")
    return summary


if __name__ == "__main__":
    main()
