"""Face detectors compared on real faces held offline (issue 15: "pick one detector by measurement").

Candidates: the Haar cascades served before (bench/haar_baseline.py), BlazeFace short range
(128x128, selfie distance), BlazeFace full range (192x192, up to ~5 m), and short range with full
range as a second pass when the first finds nothing. Sets, none downloaded:
- scikit-image's LFW subset: 100 face crops and 100 non-face crops (25x25 gray, from Labeled Faces in
  the Wild), each scaled x4 and set on a canvas of its mean gray (25% border) so a detector sees a
  whole head. Gives both hit rate and false-positive rate.
- FER2013 PublicTest (never PrivateTest), the first FER_ROWS rows, presented the same way: the very
  faces the network classifies, with their occlusions, profiles and cartoons.
- variants made from the LFW faces and FER2013 rows: turned +30 and -30 degrees in-plane, dim
  (x0.3 brightness, the noise of a dark webcam), back-lit (the face darkened x0.45 in front of a
  bright canvas at 235). FER2013 already holds half-profiles; none are synthesised.
- scikit-image's sample photos: the astronaut (one face), a cat, a drawn face, photos without people.

A hit is at least one face returned. Times are medians per call on a 640x480 frame, one thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench import common

FER_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013"
FER_ROWS = 500
SCALE = 4
BORDER = 0.25
NO_FACE_PHOTOS = ("coffee", "chelsea", "cat", "rocket", "horse", "coins", "brick", "grass", "gravel", "page",
                  "text", "moon", "hubble_deep_field", "immunohistochemistry")


def present(crop: np.ndarray, background: int | None = None) -> np.ndarray:
    import cv2

    big = cv2.resize(crop, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    pad = int(big.shape[0] * BORDER)
    value = int(big.mean()) if background is None else background
    return cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=value)


def variants(crop: np.ndarray) -> dict[str, np.ndarray]:
    import cv2

    plain = present(crop)
    h, w = plain.shape
    rng = np.random.default_rng(int(crop[::7, ::7].sum()))

    def turned(deg):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
        return cv2.warpAffine(plain, m, (w, h), borderMode=cv2.BORDER_REPLICATE)

    dim = np.clip(plain * 0.3 + rng.normal(0, 3, plain.shape), 0, 255).astype(np.uint8)
    backlit = present((crop * 0.45).astype(np.uint8), background=235)
    return {"plain": plain, "turned +30": turned(30), "turned -30": turned(-30), "dim": dim, "back-lit": backlit}


def drawn_face() -> np.ndarray:
    """A line drawing of a face (head, eyes, brows, nose, smile) on white paper, 640x480."""
    import cv2

    d = np.full((480, 640, 3), 255, np.uint8)
    cv2.ellipse(d, (320, 240), (130, 170), 0, 0, 360, (0, 0, 0), 4)
    for x in (265, 375):
        cv2.circle(d, (x, 205), 14, (0, 0, 0), -1)
        cv2.ellipse(d, (x, 180), (30, 10), 0, 200, 340, (0, 0, 0), 4)
    cv2.line(d, (320, 220), (305, 290), (0, 0, 0), 3)
    cv2.ellipse(d, (320, 320), (60, 30), 0, 20, 160, (0, 0, 0), 5)
    return d


def candidates() -> dict:
    from bench.haar_baseline import haar_faces
    from recommender.emotion.detector import detect

    def short_then_full(rgb):
        return detect(rgb, "short") or detect(rgb, "full")

    return {"Haar (served before)": haar_faces,
            "BlazeFace short": lambda rgb: detect(rgb, "short"),
            "BlazeFace full": lambda rgb: detect(rgb, "full"),
            "short, then full if none": short_then_full}


def rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2)


def median_ms(fn, image, repeats: int = 30) -> float:
    return round(common.median_ms(lambda: fn(image), repeats), 2)


def run() -> dict:
    import cv2
    from skimage import data

    cv2.setNumThreads(1)
    lfw = (data.lfw_subset() * 255).round().astype(np.uint8)
    sets = {"LFW": lfw[:100]}
    fer = FER_DIR / "public_test.npz"
    if fer.exists():
        with np.load(fer) as split:
            sets[f"FER2013 PublicTest first {FER_ROWS}"] = split["x"][:FER_ROWS]
    presented = {name: [variants(c) for c in crops] for name, crops in sets.items()}
    non_faces = [rgb(present(c)) for c in lfw[100:]]
    photos = {name: np.ascontiguousarray(getattr(data, name)()).astype(np.uint8)
              for name in NO_FACE_PHOTOS if hasattr(data, name)}
    photos = {k: (rgb(v) if v.ndim == 2 else v[:, :, :3]) for k, v in photos.items()}
    photos["a drawn face"] = drawn_face()
    frame = cv2.resize(data.astronaut(), (640, 480))
    empty = cv2.resize(data.coffee(), (640, 480))

    table = {}
    for label, detector in candidates().items():
        row = {}
        for name, items in presented.items():
            for kind in items[0]:
                row[f"{name} {kind}"] = f"{np.mean([len(detector(rgb(v[kind]))) > 0 for v in items]):.1%}"
        row["LFW non-faces with a false face (of 100)"] = sum(len(detector(x)) > 0 for x in non_faces)
        row["astronaut: faces"] = len(detector(data.astronaut()))
        row[f"photos without a human face with a false face (of {len(photos)})"] = \
            ", ".join(k for k, v in photos.items() if detector(v)) or "none"
        row["ms per 640x480 face frame"] = median_ms(detector, frame)
        row["ms per 640x480 frame without a face"] = median_ms(detector, empty)
        table[label] = row
    # One row per measure, one column per candidate: the model card's table.
    result = {"detectors (values in this order)": " / ".join(table)}
    for measure in next(iter(table.values())):
        result[measure] = " / ".join(str(row[measure]) for row in table.values())
    return result


if __name__ == "__main__":
    for key, value in run().items():
        print(f"| {key} | {value} |")
