"""Emotion inference: the served fast path (with its test-time views) against one view and the naive
``model.predict``, same process.

One face (the latency a person feels), on one CPU thread, and batch throughput; plus the whole
``recognize`` (decode, detect, crop, classify) on a real photo. The served runtime (LiteRT, from the
.tflite beside the shipped .keras) against the traced TensorFlow function it replaced, and against
the same network quantised to int8, on the same views.
"""

import os

os.environ.setdefault("MIEN_TF_THREADS", "1")  # before TensorFlow starts: one CPU thread

import io  # noqa: E402

import numpy as np  # noqa: E402

from bench.common import median_ms  # noqa: E402


def run() -> dict:
    from PIL import Image
    from skimage import data

    from recommender.emotion import recognize
    from recommender.emotion.predictor import Predictor, default_model_path, naive_predict

    with np.load(_fer_sample()) as rows:
        faces = rows["x"][:256]
    served = Predictor(default_model_path(), tta=True)  # LiteRT where the shipped .tflite matches
    served_one_view = Predictor(default_model_path(), tta=False)
    baseline = Predictor(default_model_path(), tta=True, runtime="tensorflow")  # the traced tf.function
    one = faces[:1]
    result = {
        "threads": os.environ["MIEN_TF_THREADS"],
        "served_runtime": served.runtime,
        "served_views": served.views,  # test-time views the served model averages (budget: 10 ms per face)
        "served_tta_one_face_ms": round(median_ms(lambda: served.predict(one), repeats=100, warmup=10), 2),
        "served_one_view_ms": round(median_ms(lambda: served_one_view.predict(one), repeats=100, warmup=10), 2),
        "tensorflow_tta_one_face_ms": round(median_ms(lambda: baseline.predict(one), repeats=100, warmup=10), 2),
        "naive_predict_one_face_ms": round(median_ms(lambda: naive_predict(baseline.model, one), repeats=20), 1),
    }
    result["tta_cost_vs_one_view"] = round(result["served_tta_one_face_ms"] / result["served_one_view_ms"], 2)
    result["served_speedup_vs_tensorflow"] = round(
        result["tensorflow_tta_one_face_ms"] / result["served_tta_one_face_ms"], 2)
    result["served_speedup_vs_naive"] = round(result["naive_predict_one_face_ms"] / result["served_tta_one_face_ms"], 1)
    result.update(int8_views(baseline.model, faces, served.views, result["served_tta_one_face_ms"]))
    batch_ms = median_ms(lambda: served.predict(faces), repeats=5, warmup=1)
    result["batch_256_faces_per_s_tta"] = round(256 / (batch_ms / 1000))
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    photo = buffer.getvalue()
    result["recognize_512px_photo_ms"] = round(median_ms(lambda: recognize(photo), repeats=20), 1)
    return result


def int8_views(model, faces: np.ndarray, views: int, served_ms: float) -> dict:
    """The road not taken: the network quantised to full-integer int8 (calibrated on these faces) through
    LiteRT on one thread, on the served views; on CPUs without VNNI it is no faster than float32."""
    pixels = faces[..., None].astype(np.float32)
    batch = np.concatenate([pixels[:1], pixels[:1, :, ::-1]])[:views]
    run_int8 = _int8_interpreter(model, pixels)
    ms = median_ms(lambda: run_int8(batch).mean(axis=0), repeats=100, warmup=10)
    return {f"litert_int8_{views}_views_ms": round(ms, 2), "litert_int8_speedup_vs_served": round(served_ms / ms, 2)}


def int8_accuracy(model_path=None, data_dir=None, calibration_rows: int = 512, rows: int | None = None) -> dict:
    """PublicTest accuracy of the served model (float32 LiteRT) and of the same network in int8, calibrated
    on the first training rows (never the split it is scored on), both on face + mirror; on the first
    ``rows`` faces only if given (a quicker check)."""
    import keras

    from recommender.emotion.pipeline import DEFAULT_DATA_DIR, load_split
    from recommender.emotion.predictor import Predictor, default_model_path

    model_path = model_path or default_model_path()
    data_dir = data_dir or DEFAULT_DATA_DIR
    served = Predictor(model_path, tta=True, views=2)
    if served.equalize or served.input_size != 48:
        raise ValueError("measured for 48 px models on raw rows (as shipped); add equalising/cropping to compare others")
    x_calibration, _ = load_split(data_dir, "train")
    x_test, y_test = load_split(data_dir, "public_test")
    x_test, y_test = x_test[:rows], y_test[:rows]
    run_int8 = _int8_interpreter(keras.saving.load_model(model_path, compile=False),
                                 x_calibration[:calibration_rows, ..., None].astype(np.float32))
    pixels = x_test[..., None].astype(np.float32)
    int8 = np.concatenate([(run_int8(part) + run_int8(part[:, :, ::-1])) / 2
                           for part in np.array_split(pixels, max(1, len(pixels) // 256))])
    return {"public_test_rows": int(len(y_test)),
            "float32_litert_accuracy": round(float((served.predict(x_test).argmax(1) == y_test).mean()), 4),
            "int8_litert_accuracy": round(float((int8.argmax(1) == y_test).mean()), 4)}


def _int8_interpreter(model, calibration: np.ndarray):
    """A full-integer int8 LiteRT copy of ``model`` (calibrated on ``calibration`` pixels [N,48,48,1]) on
    one thread, as a function of a float32 batch."""
    import tempfile

    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from recommender.emotion.lite import as_float32

    with tempfile.TemporaryDirectory() as tmp:
        as_float32(model).export(f"{tmp}/saved", format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(f"{tmp}/saved")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([calibration[i:i + 1]] for i in range(len(calibration)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        quantised = converter.convert()
    interpreter = Interpreter(model_content=quantised, num_threads=1)
    index = interpreter.get_input_details()[0]["index"]
    shape = None

    def run(batch: np.ndarray) -> np.ndarray:
        nonlocal shape
        if batch.shape != shape:
            interpreter.resize_tensor_input(index, list(batch.shape))
            interpreter.allocate_tensors()
            shape = batch.shape
        interpreter.set_tensor(index, np.ascontiguousarray(batch))
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    return run


def _fer_sample():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "public_test.npz"
    if shared.exists():
        return shared
    # Without ../shared, FER-shaped noise measures speed just as well.
    path = Path("/tmp/mien-bench-faces.npz")
    np.savez(path, x=np.random.default_rng(0).integers(0, 256, (256, 48, 48), dtype=np.uint8))
    return path


if __name__ == "__main__":
    print(run())
