"""Batch-norm statistics recomputed after training (pure core, no Django): ``train --recalibrate-bn``.

Training leaves each batch-norm layer's statistics as running averages over augmented and, with mixup,
blended faces, flatter than a real face; the served model sees real faces with its dropout off.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .labels import FACE_SIZE
from .networks import save_atomically

RECORD = "bn_recalibration.json"  # in a run's folder: its best model is recalibrated (before/after on PublicTest)


def recalibrate_batch_norm(model, faces: np.ndarray, batch_size: int = 256) -> None:
    """Recompute every batch-norm layer's moving mean and variance as plain averages over ``faces``
    (uint8 [N,H,W] at the model's input size; every other batch mirrored, as faces are served).

    Training leaves them as running averages over augmented and, with mixup, blended faces, which are
    flatter than a real face; a model is served on real ones. The weights are untouched."""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    # training=True runs the dropout layers too; off, the later layers see what they will see when served.
    dropouts = [layer for layer in model.layers if isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout2D))]
    momenta, rates = [layer.momentum for layer in layers], [layer.rate for layer in dropouts]
    for layer in layers:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, "float32"))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, "float32"))
    pixels = faces[..., None].astype("float32")
    try:
        for layer in dropouts:
            layer.rate = 0.0
        for number, start in enumerate(range(0, len(pixels), batch_size), start=1):
            batch = pixels[start:start + batch_size]
            # momentum (k-1)/k turns the running average into the plain mean of the batches' statistics
            for layer in layers:
                layer.momentum = (number - 1) / number
            model(batch if number % 2 else batch[:, :, ::-1], training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate


def recalibrate_best(run_dir: Path, crop: int, x_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> dict:
    """``recalibrate_batch_norm`` on the run's best model, once (``bn_recalibration.json`` says it is
    done, with PublicTest accuracy on one view before and after)."""
    import keras

    done = run_dir / RECORD
    if done.exists():
        return json.loads(done.read_text())
    model = keras.saving.load_model(run_dir / "best.keras")
    offset = (FACE_SIZE - crop) // 2  # a crop model: its centre crop, as served on one view
    window = slice(offset, offset + crop)

    pixels = x_val[:, window, window, None].astype("float32")

    def accuracy() -> float:
        return round(float((model.predict(pixels, batch_size=256, verbose=0).argmax(axis=1) == y_val).mean()), 5)

    before = accuracy()
    started = time.perf_counter()
    recalibrate_batch_norm(model, x_train[:, window, window])
    result = {"public_test_accuracy_before": before, "public_test_accuracy_after": accuracy(),
              "faces": int(len(x_train)), "seconds": round(time.perf_counter() - started, 1)}
    save_atomically(model, run_dir / "best.keras")
    done.write_text(json.dumps(result, indent=2))
    print(f"batch norm recalibrated on {result['faces']} training faces: PublicTest (one view) "
          f"{before:.4f} -> {result['public_test_accuracy_after']:.4f}", flush=True)
    return result
