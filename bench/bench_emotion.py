"""Emotion inference: the served fast path (with its test-time views) against one view and the naive
``model.predict``, same process.

One face (the latency a person feels), on one CPU thread, and batch throughput; plus the whole
``recognize`` (decode, detect, crop, classify) on a real photo.
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
    fast = Predictor(default_model_path(), tta=True)
    fast_no_tta = Predictor(default_model_path(), tta=False)
    one = faces[:1]
    result = {
        "threads": os.environ["MIEN_TF_THREADS"],
        "served_views": fast.views,  # test-time views the served model averages (budget: 10 ms per face)
        "fast_tta_one_face_ms": round(median_ms(lambda: fast.predict(one), repeats=100, warmup=10), 2),
        "fast_one_face_ms": round(median_ms(lambda: fast_no_tta.predict(one), repeats=100, warmup=10), 2),
        "naive_predict_one_face_ms": round(median_ms(lambda: naive_predict(fast.model, one), repeats=20), 1),
    }
    result["tta_cost_vs_one_view"] = round(result["fast_tta_one_face_ms"] / result["fast_one_face_ms"], 2)
    result["speedup_vs_naive"] = round(result["naive_predict_one_face_ms"] / result["fast_tta_one_face_ms"], 1)
    batch_ms = median_ms(lambda: fast.predict(faces), repeats=5, warmup=1)
    result["batch_256_faces_per_s_tta"] = round(256 / (batch_ms / 1000))
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
    photo = buffer.getvalue()
    result["recognize_512px_photo_ms"] = round(median_ms(lambda: recognize(photo), repeats=20), 1)
    return result


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
