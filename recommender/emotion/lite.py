"""The emotion network as a LiteRT flatbuffer: converted once from its .keras file, served without
TensorFlow (pure core, no Django).

The same two views of one face cost 1.65-1.84x less through LiteRT's XNNPACK kernels on one thread than
through the traced ``tf.function`` (``python -m bench.bench_emotion``, 2-core AMD EPYC), and a process
that serves through LiteRT never imports TensorFlow. The .tflite sits beside the .keras with a sidecar
naming the .keras it came from (sha256): a stale flatbuffer is never served, the .keras is.

    python -m recommender.emotion.lite recommender/emotion/weights/emotion_model.keras
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

NUM_CLASSES = 7
# Converted and Keras outputs differ by float summation order only (measured ~1e-7 on softmax outputs).
MAX_CONVERSION_DIFFERENCE = 1e-4


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def lite_path(keras_path: Path) -> Path:
    return Path(keras_path).with_suffix(".tflite")


def sidecar_path(keras_path: Path) -> Path:
    return Path(keras_path).with_suffix(".tflite.json")


def threads() -> int:
    """$MIEN_TF_THREADS (the serving processes set 1), else every core, as TensorFlow would use."""
    value = os.environ.get("MIEN_TF_THREADS", "").strip()
    return int(value) if value else (os.cpu_count() or 1)


class LiteModel:
    """Probabilities [N,7] for float32 pixels [N,s,s,1] (0..255), like the Keras model's call.

    A LiteRT interpreter is not thread-safe, so each thread gets its own (built on its first call);
    each keeps its tensors allocated for the last batch size it saw.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._content = self.path.read_bytes()
        self._local = threading.local()
        details = self._interpreter().get_input_details()[0]
        self.input_size = int(details["shape"][1])
        out = self(np.zeros((1, self.input_size, self.input_size, 1), np.float32))
        if out.shape != (1, NUM_CLASSES):
            raise ValueError(f"{path}: the model outputs {list(out.shape)} for one face, not [1, {NUM_CLASSES}]")

    def _interpreter(self):
        local = self._local
        if getattr(local, "interpreter", None) is None:
            from ai_edge_litert.interpreter import Interpreter

            local.interpreter = Interpreter(model_content=self._content, num_threads=threads())
            local.input = local.interpreter.get_input_details()[0]["index"]
            local.output = local.interpreter.get_output_details()[0]["index"]
            local.batch = None
        return local.interpreter

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        interpreter, local = self._interpreter(), self._local
        if local.batch != len(pixels):
            interpreter.resize_tensor_input(local.input, list(pixels.shape))
            interpreter.allocate_tensors()
            local.batch = len(pixels)
        interpreter.set_tensor(local.input, np.ascontiguousarray(pixels, dtype=np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(local.output).copy()


def matching_lite_model(keras_path: Path) -> Path | None:
    """The .tflite converted from exactly this .keras file, or None (none there, or a stale one)."""
    path, sidecar = lite_path(keras_path), sidecar_path(keras_path)
    if not (path.is_file() and sidecar.is_file()):
        return None
    recorded = json.loads(sidecar.read_text())
    if recorded.get("keras_sha256") != sha256(keras_path) or recorded.get("tflite_sha256") != sha256(path):
        return None
    return path


def as_float32(model):
    """The model in float32 throughout: one trained under ``mixed_bfloat16`` keeps float32 variables
    but computes in bfloat16, which LiteRT has no kernels for, so it is rebuilt from its config with
    every layer's policy set to float32 and given the same weights."""
    import keras

    def float32_policies(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy" and isinstance(node.get("config"), dict):
                return {**node, "config": {**node["config"], "name": "float32"}}
            return {key: float32_policies(value) for key, value in node.items()}
        if isinstance(node, list):
            return [float32_policies(value) for value in node]
        return node

    config = model.get_config()
    float32_config = float32_policies(config)
    if float32_config == config:
        return model
    rebuilt = keras.Model.from_config(float32_config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def convert(keras_path: Path) -> Path:
    """Write KERAS.tflite (float32, batch dimension left free) and its sidecar, after checking that the
    flatbuffer answers as the Keras model does on random faces."""
    import keras
    import tensorflow as tf

    keras_path = Path(keras_path)
    model = as_float32(keras.saving.load_model(keras_path, compile=False))
    with tempfile.TemporaryDirectory() as tmp:
        model.export(f"{tmp}/saved", format="tf_saved_model", verbose=False)
        content = tf.lite.TFLiteConverter.from_saved_model(f"{tmp}/saved").convert()
    target = lite_path(keras_path)
    partial = target.with_suffix(".tflite.tmp")
    partial.write_bytes(content)
    size = int(model.input_shape[1])
    faces = np.random.default_rng(0).integers(0, 256, (16, size, size, 1)).astype(np.float32)
    difference = float(np.abs(LiteModel(partial)(faces) - model(faces, training=False).numpy()).max())
    if difference > MAX_CONVERSION_DIFFERENCE:
        partial.unlink()
        raise RuntimeError(f"{keras_path}: the converted model differs by {difference:.2e} from the Keras one")
    os.replace(partial, target)
    sidecar_path(keras_path).write_text(json.dumps({
        "keras": keras_path.name, "keras_sha256": sha256(keras_path), "tflite_sha256": sha256(target),
        "max_abs_difference_on_16_random_faces": difference, "tensorflow": tf.__version__}, indent=2) + "\n")
    return target


def ensure_converted(keras_path: Path) -> Path:
    """The model's up-to-date .tflite, converting it first where there is none (or a stale one)."""
    return matching_lite_model(keras_path) or convert(keras_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Convert emotion models to LiteRT for serving")
    parser.add_argument("models", nargs="+", type=Path, metavar="MODEL.keras")
    for path in parser.parse_args(argv).models:
        target = convert(path)
        recorded = json.loads(sidecar_path(path).read_text())
        print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB; largest difference from the Keras model "
              f"{recorded['max_abs_difference_on_16_random_faces']:.1e})")


if __name__ == "__main__":
    main()
