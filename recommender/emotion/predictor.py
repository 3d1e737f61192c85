"""The fast serving path for the emotion network: loaded once per process, compiled once.

``model.predict`` sets up a data pipeline on every call (~100 ms for one face). The shipped model is
served through LiteRT from a .tflite converted from its .keras file (``lite.py``), without TensorFlow;
any other model through a ``tf.function`` with a fixed input signature, traced once. Nothing heavy is
imported until the first predictor is built, so importing this module (from Django, or a Celery prefork
parent) stays light, and a worker loads the model after the fork.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from .faces import equalize
from .labels import EMOTIONS, FACE_SIZE

__all__ = ["WEIGHTS_DIR", "RUNTIMES", "Predictor", "default_model_path", "get_predictor", "naive_predict", "median_ms",
           "validate_faces"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
NUM_CLASSES = len(EMOTIONS)
# Largest batch handed to the graph at once; bounds memory for callers passing thousands of faces.
MAX_BATCH = 256


def default_model_path() -> Path:
    """$MIEN_EMOTION_MODEL if set, else weights/emotion_model.keras beside this module."""
    return Path(os.environ.get("MIEN_EMOTION_MODEL") or WEIGHTS_DIR / "emotion_model.keras")


def _configure_threads() -> None:
    """Apply $MIEN_TF_THREADS (intra- and inter-op threads) if set; TF's defaults otherwise."""
    threads = os.environ.get("MIEN_TF_THREADS", "").strip()
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:
        pass  # the runtime is already initialised in this process; keep its settings


def model_equalizes(model_path: Path) -> bool:
    """Whether the model was trained on histogram-equalised faces (its recipe beside it says)."""
    recipe = Path(model_path).with_suffix(".recipe.json")
    if not recipe.exists():
        return False
    return bool(json.loads(recipe.read_text()).get("equalize", False))


def validate_faces(faces) -> np.ndarray:
    """uint8 [N,48,48] (or [N,48,48,1]) -> the same pixels as [N,48,48]; ValueError otherwise."""
    faces = np.asarray(faces)
    if faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 pixels, not {faces.dtype}")
    if faces.ndim == 4 and faces.shape[3] == 1:
        faces = faces[..., 0]
    if faces.ndim != 3 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
        raise ValueError(f"faces must have shape [N, {FACE_SIZE}, {FACE_SIZE}], not {list(faces.shape)}")
    return faces


def _normalise(p: np.ndarray) -> np.ndarray:
    """float32 rows summing to 1 (softmax drifts by ~1e-7, the flip average too)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    s = p.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise RuntimeError("the emotion model produced invalid probabilities (NaN, inf or all zero)")
    return (p / s).astype(np.float32)


def crop_offsets(input_size: int, views: int) -> list[tuple[int, int]]:
    """Top-left corners of the crops a model with a smaller input than 48 sees: the centre alone
    (1 or 2 views with the mirror), or the centre and the four corners (10 views with mirrors:
    the ten-crop of the FER2013 records)."""
    slack = FACE_SIZE - input_size
    centre = (slack // 2, slack // 2)
    if views <= 2:
        return [centre]
    return [centre, (0, 0), (0, slack), (slack, 0), (slack, slack)]


def serving_views(model_path: Path, input_size: int) -> int:
    """How many views the model is served on: its recipe's ``serve_views`` where chosen (on
    PublicTest, within the latency budget), else ten for a crop-trained model and two for a 48 one."""
    recipe = Path(model_path).with_suffix(".recipe.json")
    if recipe.exists():
        chosen = json.loads(recipe.read_text()).get("serve_views")
        if chosen:
            return int(chosen)
    return 10 if input_size < FACE_SIZE else 2


RUNTIMES = ("auto", "litert", "tensorflow")


class Predictor:
    """Probabilities for 48x48 face crops, in FER2013 class order.

    tta: average over several views of the face (test-time augmentation): the face and its mirror
    image, and for a model trained on smaller random crops, the crops the recipe names (``views``
    overrides it); all views of all faces run as one batch. Without tta, one view: the whole face,
    or its centre crop. predict() may be called from several threads at once.

    runtime: "auto" serves through LiteRT when a .tflite converted from this very .keras file lies
    beside it (``lite.py``; no TensorFlow in the process), else through TensorFlow; "litert" insists
    on the former, "tensorflow" on the latter (the baseline in benchmarks, and the only one with ``model``).
    """

    def __init__(self, model_path: str | Path, tta: bool = True, views: int | None = None,
                 runtime: str = "auto"):
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(
                f"emotion model not found: {path} (train one with recommender/emotion/train.py, "
                "or point MIEN_EMOTION_MODEL at a .keras file)"
            )
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime {runtime!r}: choose from {', '.join(RUNTIMES)}")
        from .lite import LiteModel, matching_lite_model

        self.model_path = path
        self.tta = bool(tta)
        self.equalize = model_equalizes(path)
        lite = None if runtime == "tensorflow" else matching_lite_model(path)
        if runtime == "litert" and lite is None:
            raise FileNotFoundError(f"no LiteRT model converted from {path}: run python -m recommender.emotion.lite {path}")
        self.runtime = "litert" if lite else "tensorflow"
        self.model = None
        if lite:
            self._lite = LiteModel(lite)
            size = self._lite.input_size
        else:
            _configure_threads()
            import keras

            self.model = keras.saving.load_model(path, compile=False)
            size = int(self.model.input_shape[1])
        if not 0 < size <= FACE_SIZE:
            raise ValueError(f"{path}: the model takes {size}x{size} faces; at most {FACE_SIZE} can be cut from a face")
        self.input_size = size
        self.views = 1 if not self.tta else int(views or serving_views(path, size))
        if self.views not in (1, 2, 5, 10) or (size == FACE_SIZE and self.views > 2):
            raise ValueError(f"{self.views} views of a {size}x{size} model: choose 1 or 2"
                             + (", 5 or 10" if size < FACE_SIZE else ""))
        self._offsets = crop_offsets(size, self.views)
        self._mirror = self.views > 1 and self.views != len(self._offsets)
        self._run = self._run_lite if lite else self._traced_tensorflow()
        # Run once now, not on the first person; and a model with the wrong contract fails here.
        out = self._run(np.zeros([1, FACE_SIZE, FACE_SIZE, 1], np.float32))
        if out.shape != (1, NUM_CLASSES):
            raise ValueError(f"{path}: the model outputs {list(out.shape)} for one face, not [1, {NUM_CLASSES}]")

    def _run_lite(self, pixels: np.ndarray) -> np.ndarray:
        size = self.input_size
        crops = [pixels[:, y:y + size, x:x + size, :] for y, x in self._offsets]
        if self._mirror:
            crops += [c[:, :, ::-1, :] for c in crops]
        # One call on all views beats one call per view for the few faces a request has.
        out = self._lite(np.concatenate(crops, axis=0))
        return out.reshape(len(crops), len(pixels), NUM_CLASSES).mean(axis=0)

    def _traced_tensorflow(self):
        import tensorflow as tf

        model, size, offsets, mirror = self.model, self.input_size, self._offsets, self._mirror

        @tf.function(input_signature=[tf.TensorSpec([None, FACE_SIZE, FACE_SIZE, 1], tf.float32)],
                     reduce_retracing=True)
        def serve(pixels):
            crops = [pixels[:, y:y + size, x:x + size, :] for y, x in offsets]
            if mirror:
                crops += [tf.reverse(c, axis=[2]) for c in crops]
            if len(crops) == 1:
                return model(crops[0], training=False)
            out = model(tf.concat(crops, axis=0), training=False)
            return tf.reduce_mean(tf.stack(tf.split(out, len(crops), axis=0)), axis=0)

        return lambda pixels: serve(tf.constant(pixels)).numpy()

    def predict(self, faces) -> np.ndarray:
        """uint8 faces [N,48,48] -> float32 probabilities [N,7] (EMOTIONS order, rows sum to 1)."""
        faces = validate_faces(faces)
        if len(faces) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        if self.equalize:
            faces = equalize(faces)
        pixels = faces[..., None].astype(np.float32)  # the model rescales 0..255 itself
        parts = [self._run(pixels[i:i + MAX_BATCH]) for i in range(0, len(pixels), MAX_BATCH)]
        return _normalise(np.concatenate(parts, axis=0))

    def __repr__(self) -> str:
        return (f"Predictor({str(self.model_path)!r}, tta={self.tta}, views={self.views}, "
                f"runtime={self.runtime!r})")


def median_ms(call, repeats: int = 60, warmup: int = 10) -> float:
    """Median milliseconds of ``call()`` over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def naive_predict(model, faces) -> np.ndarray:
    """The slow path (``model.predict``, no TTA), kept for benchmarks."""
    faces = validate_faces(faces)
    if len(faces) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    return _normalise(model.predict(faces[..., None].astype(np.float32), verbose=0))


_lock = threading.Lock()
_predictor: Predictor | None = None


def get_predictor() -> Predictor:
    """The process-wide predictor for default_model_path(), built on first use (thread-safe).

    Call it only after any fork (TensorFlow does not survive fork()). A failed load, e.g. a
    missing model, is not cached: the next call tries again.
    """
    global _predictor
    p = _predictor
    if p is None:
        with _lock:
            if _predictor is None:
                _predictor = Predictor(default_model_path())
            p = _predictor
    return p
