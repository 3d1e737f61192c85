"""Face detector hit rate on real face photos available offline (issue 3: "measure the detector").

Three sets, none downloaded:
- scikit-image's LFW subset: 100 face crops and 100 non-face crops (25x25 gray, from Labeled Faces in
  the Wild), each scaled x4 and set on a canvas of its mean gray (25% border) so the cascade sees a
  whole head. Gives both hit rate and false-positive rate.
- FER2013 PublicTest (never PrivateTest), the first 1,000 rows, presented the same way: the very
  faces the network classifies, with their occlusions, profiles and cartoons; a hard set for Haar.
- scikit-image's sample photos: the astronaut (one face) and photos without people.

A hit is at least one face returned by ``detect_faces`` (cascade + eye/second-cascade check).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FER_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013"
FER_ROWS = 1000
SCALE = 4
BORDER = 0.25
NO_FACE_PHOTOS = ("coffee", "chelsea", "rocket", "horse", "coins", "brick", "grass", "gravel", "page", "text",
                  "moon", "hubble_deep_field", "immunohistochemistry", "motorcycle_left")


def present(crop: np.ndarray) -> np.ndarray:
    import cv2

    big = cv2.resize(crop, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    pad = int(big.shape[0] * BORDER)
    return cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(big.mean()))


def hit_rate(crops) -> float:
    from recommender.emotion.faces import detect_faces

    hits = [len(detect_faces(present(c))) > 0 for c in crops]
    return round(float(np.mean(hits)), 4) if hits else float("nan")


def run() -> dict:
    from skimage import data

    from recommender.emotion.faces import detect_faces

    lfw = (data.lfw_subset() * 255).round().astype(np.uint8)
    result = {
        "LFW subset faces found (of 100)": f"{hit_rate(lfw[:100]):.0%}",
        "LFW subset non-faces with a false face (of 100)": f"{hit_rate(lfw[100:]):.0%}",
    }
    fer = FER_DIR / "public_test.npz"
    if fer.exists():
        with np.load(fer) as split:
            rows = split["x"][:FER_ROWS]
        result[f"FER2013 PublicTest faces found (first {len(rows)})"] = f"{hit_rate(rows):.1%}"
    astronaut = data.astronaut()
    result["astronaut photo: faces found"] = len(detect_faces(astronaut))
    false_photos = [name for name in NO_FACE_PHOTOS if hasattr(data, name)
                    and detect_faces(np.ascontiguousarray(getattr(data, name)()).astype(np.uint8))]
    result[f"photos without people with a false face (of {len(NO_FACE_PHOTOS)})"] = \
        ", ".join(false_photos) or "none"
    return result


if __name__ == "__main__":
    print(run())
