"""Face detection (BlazeFace), eye alignment and FER2013-style 48x48 crops of a decoded image
(images.py turns upload bytes into the RGB array detected here).

Pure core: NumPy, OpenCV and the LiteRT interpreter (no Django, no TensorFlow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .labels import FACE_SIZE

__all__ = [
    "Face",
    "detect_faces",
    "crop_face",
    "eye_angle",
    "equalize",
]


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    box: (x, y, w, h) in pixels of the decoded, upright image.
    crop: uint8 [48, 48] grayscale, levelled and framed like a FER2013 row, ready for the network.
    eyes: centres (x, y) of the image-left and image-right eye, from the detector's keypoints.
    angle: degrees the crop was turned by to level the eyes (0.0 when not aligned).
    score: the detector's confidence, 0..1.
    """

    box: tuple[int, int, int, int]
    crop: np.ndarray
    eyes: tuple[tuple[float, float], tuple[float, float]]
    angle: float = 0.0
    score: float = 1.0

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


# --------------------------------------------------------------------------- detection

# BlazeFace, chosen by measurement (bench/bench_detector.py, the model card): the short-range model
# (selfie distance) first; the full-range model only when it finds nothing, for a face too small
# for the short one (below ~70 px in a 640x480 frame; full range reaches ~40 px). The second pass
# costs a no-face photo about what classifying a face costs a face photo.
DETECTOR_MODELS = ("short", "full")
# At most this many faces are cropped (largest first) so a crowd photo stays cheap.
MAX_FACES = 16
# How FER2013 rows are framed around a BlazeFace box, measured on 1,485 of the first 1,500 training
# rows (x4 on a canvas, detected; scripts in the model card): the row is 1.17x the box's width
# (IQR 1.09-1.28), centred 0.10 box widths above the box's centre (IQR 0.05-0.14), level eyes.
CROP_SCALE = 1.17
CROP_SHIFT_UP = 0.10
# The second look at a levelled face may correct the first by at most this much (more is a misfit).
MAX_RESIDUAL_DEGREES = 20.0
# A tilt beyond this is more likely a keypoint error than a head rolled that far (BlazeFace itself
# loses faces rolled past ~45 degrees), so such a face is cropped unlevelled.
MAX_ROLL_DEGREES = 45.0
# A photographed face spreads over many gray levels; a line drawing or a flat patch does not. Crops
# with fewer bits of gray-level entropy are not faces to read: on bench_detector's sets every real
# face crop had >= 3.7 bits (the dim FER2013 rows the least), drawn faces ~1.9. It does not
# remove BlazeFace's false faces on textured patches (18 of LFW's 100 non-face crops remain).
MIN_CROP_ENTROPY_BITS = 3.0
# Histogram equalisation (the paper's preprocessing) is not applied to crops here: it belongs to
# the model, whose training recipe says whether it was trained on equalised rows, and the
# Predictor applies it then (see equalize()). Feeding equalised crops to a model trained on raw
# rows lost 2-4 points of PublicTest accuracy.
EQUALIZE = False


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError("image must be a uint8 numpy array")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    raise ValueError(f"image must be [H,W], [H,W,3] or [H,W,4]; got shape {image.shape}")


def eye_angle(eyes) -> float:
    """Degrees to turn the face by (cv2's sense: counter-clockwise as displayed) to level its eyes."""
    (lx, ly), (rx, ry) = eyes  # image-left eye first
    # getRotationMatrix2D turns counter-clockwise for positive angles as displayed (y down), which
    # levels an eye line that descends to the right.
    return math.degrees(math.atan2(ry - ly, rx - lx))


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], angle: float = 0.0,
              equalize: bool | None = None) -> np.ndarray:
    """FER2013-style 48x48 crop: turn by angle about the box centre, cut a square CROP_SCALE times
    the box's width, CROP_SHIFT_UP above its centre (FER2013's framing), resize with INTER_AREA."""
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    n = max(int(round(w * CROP_SCALE)), 1)
    # One affine warp does rotation and crop together; border replication avoids black wedges
    # where the crop reaches past the photo's edge.
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[0, 2] += n / 2.0 - cx
    m[1, 2] += n / 2.0 - (cy - CROP_SHIFT_UP * w)
    patch = cv2.warpAffine(gray, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if n >= FACE_SIZE else cv2.INTER_CUBIC
    out = cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=interp)
    if (EQUALIZE if equalize is None else equalize):
        out = cv2.equalizeHist(out)
    return np.ascontiguousarray(out, dtype=np.uint8)


def detect_faces(image: np.ndarray, max_faces: int = MAX_FACES, align: bool = True,
                 models: tuple[str, ...] = DETECTOR_MODELS) -> list[Face]:
    """Detect faces in an RGB (or gray) uint8 image; largest first, at most max_faces.

    align: turn each crop so its eyes are level (from the detector's eye keypoints).
    models: BlazeFace models tried in turn until one finds a face.
    """
    from .detector import detect

    rgb = _to_rgb(image)
    found = []
    for model in models:
        found = detect(rgb, model)
        if found:
            break
    found = sorted(found, key=lambda d: d.box[2] * d.box[3], reverse=True)[:max_faces]
    if not found:
        return []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = []
    for d in found:
        box = tuple(int(round(v)) for v in d.box)
        # The model's "right eye" is the person's right: the image's left.
        eyes = (tuple(float(v) for v in d.keypoints[0]), tuple(float(v) for v in d.keypoints[1]))
        angle = eye_angle(eyes) if align else 0.0
        if align:
            angle += _residual_angle(rgb, box, angle)
        if abs(angle) > MAX_ROLL_DEGREES:
            angle = 0.0
        crop = crop_face(gray, box, angle)
        if gray_entropy(crop) < MIN_CROP_ENTROPY_BITS:
            continue  # a drawing, a wall: not a photographed face
        faces.append(Face(box=box, crop=crop, eyes=eyes, angle=angle, score=d.score))
    return faces


def _residual_angle(rgb: np.ndarray, box: tuple[int, int, int, int], angle: float) -> float:
    """The tilt left after turning the face by angle, from a second look at the levelled face.

    In a whole 640x480 frame shrunk to BlazeFace's 128 px input the eyes are ~9 px apart, so one
    pixel of keypoint error is ~6 degrees, and a strong roll reads too small (30 degrees as ~25).
    The face, turned by the first estimate and cut out at half the model's input (eyes ~27 px
    apart), is detected again and its eye line says what remains: one more short-range call, on
    face photos only. 0.0 when the second look finds no face.
    """
    from .detector import MODELS, detect

    x, y, w, h = box
    size = MODELS["short"].size
    side = 2.0 * max(w, h)  # the face at half the patch: what the short-range model sees best
    k = size / side
    m = cv2.getRotationMatrix2D((x + w / 2.0, y + h / 2.0), angle, k)
    m[0, 2] += size / 2.0 - (x + w / 2.0)
    m[1, 2] += size / 2.0 - (y + h / 2.0)
    patch = cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    again = detect(patch, "short")
    if not again:
        return 0.0
    residual = eye_angle((again[0].keypoints[0], again[0].keypoints[1]))
    return residual if abs(residual) <= MAX_RESIDUAL_DEGREES else 0.0


def gray_entropy(crop: np.ndarray) -> float:
    """Shannon entropy (bits) of a uint8 image's gray-level histogram."""
    p = np.bincount(crop.ravel(), minlength=256) / crop.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def equalize(faces: np.ndarray) -> np.ndarray:
    """Histogram-equalise uint8 crops [N,48,48] (or one [48,48]).

    detect_faces does not equalise its crops: the Predictor calls this for a model whose training
    recipe says it was trained on equalised rows, so the network sees what it was trained on.
    """
    faces = np.asarray(faces)
    if faces.dtype != np.uint8:
        raise ValueError("faces must be uint8")
    if faces.ndim == 2:
        return cv2.equalizeHist(faces)
    return np.stack([cv2.equalizeHist(f) for f in faces]) if len(faces) else faces.copy()
