"""The selfie path stage by stage on one CPU thread, and what eye alignment does to accuracy.

Stages on a 640x480 JPEG camera frame (the astronaut portrait framed 4:3, and the coffee photo for a
frame without a face): decode, BlazeFace short and full range, level + crop, the CNN with TTA, and
the whole ``recognize()``; medians of repeated calls. CPU time per selfie (``time.process_time``
over the repeats) gives the single-process bound that bench_load compares its throughput with:
cores / CPU seconds per selfie.

Alignment: FER2013 PublicTest rows (never PrivateTest) presented x4 on a canvas as in
bench_detector; on the rows the detector finds, the shipped CNN's accuracy on the detector's crop
levelled on the eyes vs the same crop unlevelled, with the row itself as the reference.
"""

from __future__ import annotations

import os

os.environ.setdefault("MIEN_TF_THREADS", "1")  # before TensorFlow starts: one CPU thread

import io  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from bench.common import median_ms  # noqa: E402


def camera_frames() -> tuple[bytes, bytes]:
    """(face frame, no-face frame): 640x480 JPEGs at quality 90, as camera.js sends them."""
    import cv2
    from PIL import Image
    from skimage import data

    face = cv2.copyMakeBorder(cv2.resize(data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA),
                              0, 0, 80, 80, cv2.BORDER_REFLECT)
    empty = cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)
    out = []
    for image in (face, empty):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out[0], out[1]


def medians_ms(fn, repeats: int = 50, warmup: int = 3) -> tuple[float, float]:
    """(wall, CPU) medians in ms. On a shared machine the wall time includes waiting for a core;
    the process's CPU time (all its threads) does not, so it is the figure that transfers."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return round(float(np.median(wall)) * 1000, 2), round(float(np.median(cpu)) * 1000, 2)


def stages() -> dict:
    import cv2

    from recommender.emotion import decode_image, recognize
    from recommender.emotion.detector import detect
    from recommender.emotion.faces import crop_face, detect_faces
    from recommender.emotion.predictor import get_predictor

    cv2.setNumThreads(1)
    face_jpeg, empty_jpeg = camera_frames()
    image = decode_image(face_jpeg)
    face = detect_faces(image)[0]
    predictor = get_predictor()

    def level_and_crop():
        crop_face(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), face.box, face.angle)

    timed = {
        "decode 640x480 JPEG": lambda: decode_image(face_jpeg),
        "BlazeFace short range": lambda: detect(image, "short"),
        "BlazeFace full range (only when short finds none)": lambda: detect(image, "full"),
        "gray + level + crop": level_and_crop,
        "CNN with TTA, one face": lambda: predictor.predict(face.crop[None]),
        "recognize() face frame": lambda: recognize(face_jpeg),
        "recognize() no-face frame": lambda: recognize(empty_jpeg),
    }
    result = {"threads": os.environ["MIEN_TF_THREADS"], "load average (1 min) before": round(os.getloadavg()[0], 2)}
    for name, fn in timed.items():
        wall, cpu = medians_ms(fn)
        result[f"{name}: wall / CPU ms (medians)"] = f"{wall} / {cpu}"
    cpu = medians_ms(timed["recognize() face frame"])[1]
    result["single-process bound: cores / recognize() CPU s per selfie"] = round(os.cpu_count() / (cpu / 1000), 1)
    return result


def alignment_effect(limit: int | None = None, turn: float = 0.0) -> dict:
    """turn: present each row turned by +turn / -turn degrees (alternately), as a tilted head."""
    import cv2

    from bench.bench_detector import FER_DIR, present
    from recommender.emotion.faces import crop_face, detect_faces
    from recommender.emotion.predictor import get_predictor

    path = FER_DIR / "public_test.npz"
    if not path.exists():
        return {"alignment": "skipped: ../shared/data/fer2013 not present"}
    with np.load(path) as split:
        rows, labels = split["x"][:limit], split["y"][:limit]
    kept, aligned, plain = [], [], []
    for i, row in enumerate(rows):
        shown = present(row)
        if turn:
            side = shown.shape[0]
            m = cv2.getRotationMatrix2D((side / 2, side / 2), turn if i % 2 else -turn, 1.0)
            shown = cv2.warpAffine(shown, m, (side, side), borderMode=cv2.BORDER_REPLICATE)
        found = detect_faces(shown)
        if not found:
            continue
        kept.append(i)
        aligned.append(found[0].crop)
        plain.append(crop_face(shown if shown.ndim == 2 else cv2.cvtColor(shown, cv2.COLOR_RGB2GRAY), found[0].box, 0.0))
    predictor = get_predictor()
    kept = np.array(kept)

    def accuracy(faces):
        return float(np.mean(predictor.predict(np.stack(faces)).argmax(axis=1) == labels[kept]))

    tilt = f" (turned +/-{turn:g} degrees)" if turn else ""
    return {
        f"FER2013 PublicTest rows{tilt}": len(rows),
        f"rows with a face found{tilt}": f"{len(kept)} ({len(kept) / len(rows):.1%})",
        f"accuracy on those rows, the upright row itself (reference){tilt}": f"{accuracy(list(rows[kept])):.2%}",
        f"accuracy, detector crop levelled on the eyes (served){tilt}": f"{accuracy(aligned):.2%}",
        f"accuracy, detector crop not levelled{tilt}": f"{accuracy(plain):.2%}",
    }


def run() -> dict:
    return stages() | alignment_effect() | alignment_effect(limit=1000, turn=25)


if __name__ == "__main__":
    for key, value in run().items():
        print(f"| {key} | {value} |")
