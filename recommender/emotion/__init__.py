"""Facial-expression recognition: the pure core behind Mien's selfie upload (no Django).

Contracts
---------
- ``recognize(image_bytes) -> Recognition``: decode (EXIF-upright), detect faces, classify each.
  Raises ``ImageDecodeError`` (a ValueError, with a message fit for the user) when the bytes are
  not a readable image, are damaged, or are too large. A photo with no face is NOT an error: it
  returns ``face_count == 0`` and ``emotion is None`` (the model is not even run). There is no
  NoFaceFound exception, and no emotion is ever guessed.
- ``predict_faces(faces)``: uint8 [N,48,48] crops -> float32 [N,7] probabilities in ``EMOTIONS``
  order, rows summing to 1.

Importing this package does not import TensorFlow; the model loads on the first prediction
(see ``predictor.get_predictor``; ``MIEN_EMOTION_MODEL`` overrides the model path). The shipped model
is served through LiteRT (``lite.py``), so serving never imports TensorFlow at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .faces import Face, detect_faces
from .images import (MAX_PIXELS, ImageDecodeError, ImageTooLarge, UnsupportedImageType, check_image, decode_image,
                     probe_image)
from .labels import EMOTIONS, FACE_SIZE

__all__ = [
    "EMOTIONS",
    "FACE_SIZE",
    "MAX_PIXELS",
    "Face",
    "FaceResult",
    "ImageDecodeError",
    "ImageTooLarge",
    "Recognition",
    "UnsupportedImageType",
    "check_image",
    "decode_image",
    "detect_faces",
    "predict_faces",
    "probe_image",
    "recognize",
]


@dataclass(frozen=True)
class FaceResult:
    """One classified face: box [x, y, w, h] (pixels of the EXIF-upright image) and
    probabilities {emotion: p} in EMOTIONS order (plain ints/floats, JSON-ready)."""

    box: list[int]
    probabilities: dict[str, float]

    @property
    def emotion(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)

    def as_dict(self) -> dict:
        return {"box": list(self.box), "probabilities": dict(self.probabilities)}


@dataclass(frozen=True)
class Recognition:
    """Result of recognize().

    faces: FaceResult per face, largest first.
    face_count: len(faces).
    emotion: the top emotion of the largest face, or None when no face was found.
    """

    faces: list[FaceResult] = field(default_factory=list)
    face_count: int = 0
    emotion: str | None = None

    def as_dict(self) -> dict:
        """{"faces": [{"box": [...], "probabilities": {...}}, ...], "face_count": n, "emotion": e}"""
        return {"faces": [f.as_dict() for f in self.faces], "face_count": self.face_count, "emotion": self.emotion}


def predict_faces(faces: np.ndarray) -> np.ndarray:
    """uint8 [N,48,48] face crops -> float32 [N,7] probabilities (EMOTIONS order, rows sum to 1)."""
    from .predictor import get_predictor  # lazy: keeps TensorFlow out of plain imports

    return get_predictor().predict(faces)


def recognize(image_bytes: bytes, *, max_pixels: int = MAX_PIXELS, predictor=None) -> Recognition:
    """Find and classify the faces in an uploaded photo.

    predictor: anything with ``predict(uint8 [N,48,48]) -> [N,7]``; defaults to the process-wide
    model. Raises ImageDecodeError for unreadable, damaged or too-large images.
    """
    image = decode_image(image_bytes, max_pixels=max_pixels)
    found = detect_faces(image)
    if not found:
        return Recognition()
    crops = np.stack([f.crop for f in found])
    probs = predictor.predict(crops) if predictor is not None else predict_faces(crops)
    faces = [
        FaceResult(box=[int(v) for v in f.box], probabilities={name: float(p) for name, p in zip(EMOTIONS, row)})
        for f, row in zip(found, probs)
    ]
    return Recognition(faces=faces, face_count=len(faces), emotion=EMOTIONS[int(np.argmax(probs[0]))])
