"""The Haar-cascade detector the app served before BlazeFace, kept only as the benchmark's baseline.

Copied unchanged from recommender/emotion/faces.py as of 921e6c0 (detection part only): the default
frontal cascade, the alt2 cascade as a second opinion, an eye pair or the second cascade to confirm.
Not on the serving path.
"""

from __future__ import annotations

import math
import os
import threading

import cv2
import numpy as np

DETECT_MAX_SIDE = 480
MIN_FACE = 32
MAX_ROLL_DEGREES = 30.0

_CASCADE_FILES = {
    "face": "haarcascade_frontalface_default.xml",
    "face_alt": "haarcascade_frontalface_alt2.xml",
    "eye": "haarcascade_eye.xml",
}
# CascadeClassifier.detectMultiScale is not documented as thread-safe, so each thread of each
# process gets its own instances (loaded lazily; ~10-30 ms each, once per thread).
_local = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    cache = getattr(_local, "cascades", None)
    if cache is None or getattr(_local, "pid", None) != os.getpid():
        cache = _local.cascades = {}
        _local.pid = os.getpid()
    clf = cache.get(name)
    if clf is None:
        path = os.path.join(cv2.data.haarcascades, _CASCADE_FILES[name])
        clf = cv2.CascadeClassifier(path)
        if clf.empty():
            raise RuntimeError(f"OpenCV Haar cascade missing or unreadable: {path}")
        cache[name] = clf
    return clf


# ---- detection


def _to_gray(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("image must be a uint8 numpy array")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        # Colour order only nudges the gray weights (R/B swap); decode_image gives RGB.
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    raise ValueError(f"image must be [H,W], [H,W,3] or [H,W,4]; got shape {image.shape}")


def _detect_boxes(gray: np.ndarray) -> tuple[list[tuple[int, int, int, int]], str]:
    """Haar face boxes in full-resolution pixels, and the name of the cascade that did NOT find them."""
    h, w = gray.shape
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = gray if scale == 1.0 else cv2.resize(
        gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    # Equalising the search image makes the cascade far less sensitive to exposure (OpenCV's sample does it).
    small = cv2.equalizeHist(small)
    kwargs = dict(scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE))
    found, other = _cascade("face").detectMultiScale(small, **kwargs), "face_alt"
    if len(found) == 0:
        # Second opinion only when the default cascade sees nothing: one more pass on no-face
        # images, nothing otherwise; it found 5-9% more of the FER2013/LFW faces we measured.
        found, other = _cascade("face_alt").detectMultiScale(small, **kwargs), "face"
    boxes = [
        (int(round(x / scale)), int(round(y / scale)), int(round(bw / scale)), int(round(bh / scale)))
        for x, y, bw, bh in (found if len(found) else [])
    ]
    return boxes, other


def _confirmed(gray: np.ndarray, box: tuple[int, int, int, int], cascade: str) -> bool:
    """Whether a second cascade also sees a face around box.

    Haar false positives (coins, cell textures) are rarely shared by two differently trained
    cascades: requiring agreement (or two eyes) removed 46 of 50 false boxes on our composites
    and all on the no-face photos, for ~5% of true faces lost.
    """
    x, y, w, h = box
    gh, gw = gray.shape
    pad = int(0.3 * w)
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(gw, x + w + pad), min(gh, y + h + pad)
    roi = gray[y0:y1, x0:x1]
    if roi.size == 0:
        return False
    k = 96.0 / max(w, 1)  # face normalised to ~96 px: cheap and resolution-independent
    roi = cv2.resize(roi, (max(1, round(roi.shape[1] * k)), max(1, round(roi.shape[0] * k))),
                     interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    roi = cv2.equalizeHist(roi)
    hits = _cascade(cascade).detectMultiScale(roi, scaleFactor=1.1, minNeighbors=3, minSize=(60, 60), maxSize=(140, 140))
    return len(hits) > 0


def _find_eyes(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Centres (x, y) of the left and right eye in full-resolution pixels, or None.

    Searches the upper half of the face box, normalised to 160 px wide so the cascade's
    parameters (and cost) do not depend on the photo's resolution.
    """
    x, y, w, h = box
    top, bottom = y + int(0.12 * h), y + int(0.58 * h)
    roi = gray[max(top, 0):max(bottom, 0), max(x, 0):max(x + w, 0)]
    if roi.size == 0 or roi.shape[1] < 24:
        return None
    k = 160.0 / roi.shape[1]
    roi = cv2.resize(roi, (160, max(1, round(roi.shape[0] * k))),
                     interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    roi = cv2.equalizeHist(roi)
    eyes = _cascade("eye").detectMultiScale(roi, scaleFactor=1.1, minNeighbors=5, minSize=(18, 18), maxSize=(64, 64))
    if len(eyes) < 2:
        return None
    centres = [(ex + ew / 2.0, ey + eh / 2.0, ew) for ex, ey, ew, eh in eyes]
    best, best_score = None, None
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            a, b = sorted((centres[i], centres[j]))  # left eye (image left) first
            dx, dy = b[0] - a[0], b[1] - a[1]
            # A plausible pair: one eye per half, 25-65% of the face width apart, similar size.
            if not (a[0] < 80 < b[0] and 40 <= dx <= 104):
                continue
            if max(a[2], b[2]) > 1.6 * min(a[2], b[2]):
                continue
            if abs(math.degrees(math.atan2(dy, dx))) > MAX_ROLL_DEGREES:
                continue
            # Prefer symmetric pairs about the face's vertical centre line.
            score = abs((a[0] + b[0]) / 2.0 - 80)
            if best_score is None or score < best_score:
                best, best_score = (a, b), score
    if best is None:
        return None
    ox, oy = max(x, 0), max(top, 0)
    (ax, ay, _), (bx, by, _) = best
    return (ox + ax / k, oy + ay / k), (ox + bx / k, oy + by / k)


def haar_faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Confirmed Haar boxes, largest first (what detect_faces returned before, without the crops)."""
    gray = _to_gray(image)
    boxes, other = _detect_boxes(gray)
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return [box for box in boxes if _find_eyes(gray, box) is not None or _confirmed(gray, box, other)]
