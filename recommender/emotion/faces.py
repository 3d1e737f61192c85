"""Image decoding, face detection, eye alignment and FER2013-style 48x48 crops.

Pure core: Pillow, NumPy and OpenCV only (no Django, no TensorFlow).
"""

from __future__ import annotations

import io
import math
import os
import struct
import threading
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .labels import FACE_SIZE

__all__ = [
    "MAX_PIXELS",
    "ALLOWED_FORMATS",
    "ImageDecodeError",
    "ImageTooLarge",
    "Face",
    "probe_image",
    "decode_image",
    "detect_faces",
    "crop_face",
    "equalize",
]

# Refuse images whose decoded size exceeds this (a 40 MP photo is ~120 MB as RGB).
MAX_PIXELS = 40_000_000

# Only formats a browser or phone uploads; keeps exotic decoders (EPS via Ghostscript, ...) out of
# reach. Phones' multi-picture JPEGs (MPO) open through the JPEG plugin. Filtered to the formats
# this Pillow build can open (e.g. WebP needs libwebp), since Image.open rejects unknown names.
Image.init()
# The same five the upload view accepts (webapp.views.api), named alike in both error messages.
ALLOWED_FORMATS = tuple(f for f in ("JPEG", "PNG", "WEBP", "GIF", "BMP") if f in Image.OPEN)

# Detection runs on a copy whose longest side is at most this; Haar cost grows with area.
DETECT_MAX_SIDE = 480
# Smallest face searched for, in pixels of that downscaled copy.
MIN_FACE = 32
# At most this many faces are cropped (largest first) so a crowd photo stays cheap.
MAX_FACES = 16
# Extra border around the Haar box, as a fraction of its side. On 1000 FER2013 training rows,
# upscaled x4 and re-detected, the row's frame was 1.02x the Haar box (IQR 0.96-1.09) and centred
# on it, so FER2013 crops are essentially the Haar box itself.
CROP_MARGIN = 0.01
# Eye-line angles beyond this are almost always a false eye pair (the frontal cascade itself
# rarely fires beyond ~20 degrees of roll), so such pairs are ignored rather than clamped.
MAX_ROLL_DEGREES = 30.0
# Histogram equalisation (the paper's preprocessing) is not applied to crops here: it belongs to
# the model, whose training recipe says whether it was trained on equalised rows, and the
# Predictor applies it then (see equalize()). Feeding equalised crops to a model trained on raw
# rows lost 2-4 points of PublicTest accuracy.
EQUALIZE = False


class ImageDecodeError(ValueError):
    """The upload is not an image we can read (unknown format, damaged, or too large)."""


class ImageTooLarge(ImageDecodeError):
    """The image's header declares more pixels than allowed (a decompression bomb, or a huge photo)."""

    def __init__(self, message: str, width: int = 0, height: int = 0, max_pixels: int = MAX_PIXELS):
        super().__init__(message)
        self.width, self.height, self.max_pixels = width, height, max_pixels


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    box: (x, y, w, h) in pixels of the decoded, upright image.
    crop: uint8 [48, 48] grayscale, aligned and histogram-equalised, ready for the network.
    eyes_found: whether two plausible eyes were found (and the crop rotated to level them).
    angle: degrees the face was rotated by to level the eyes (0.0 when eyes_found is False).
    """

    box: tuple[int, int, int, int]
    crop: np.ndarray
    eyes_found: bool
    angle: float = 0.0

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


# --------------------------------------------------------------------------- decoding


def probe_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) read from the image's header alone, without decoding a pixel.

    Cheap enough for a web request: refuses decompression bombs (ImageTooLarge) and bytes that are
    not an image of an allowed format (ImageDecodeError) before anything big is allocated.
    """
    img = _open_header(data, max_pixels)
    return img.format, img.width, img.height


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    """Image.open (lazy: header only) with the pixel limit checked on the declared size."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected image bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageDecodeError("The uploaded file is empty.")
    try:
        # Pillow's own bomb guard only warns between MAX_IMAGE_PIXELS and twice that; make it fatal.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_too_large(max_pixels), max_pixels=max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(
            "The file is not an image we can read; please upload a JPEG, PNG, WebP, GIF or BMP photo."
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageDecodeError("The image file is damaged or incomplete; please upload it again.") from exc
    width, height = img.size
    # Checked on the header, before any pixel is decoded.
    if width * height > max_pixels:
        raise ImageTooLarge(_too_large(max_pixels, width, height), width, height, max_pixels)
    return img


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image bytes into an upright RGB uint8 array [H, W, 3].

    EXIF orientation is applied and nothing else of the metadata is used. Raises ImageDecodeError
    when the bytes are not a supported image, are truncated or damaged, or decode to more than
    max_pixels pixels (ImageTooLarge, found on the header before decoding).
    """
    img = _open_header(data, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_too_large(max_pixels), max_pixels=max_pixels) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        # Pillow reports truncation as OSError("image file is truncated ...") and corrupt
        # headers or chunks as SyntaxError, ValueError or struct.error depending on the plugin.
        raise ImageDecodeError("The image file is damaged or incomplete; please upload it again.") from exc

    try:
        rgb = _upright(img).convert("RGB")
    except (OSError, ValueError) as exc:
        raise ImageDecodeError("The image uses a colour format we cannot read.") from exc
    return np.asarray(rgb, dtype=np.uint8)


# EXIF orientation (tag 0x0112) -> the transpose that shows the photo as the camera held it.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation and nothing else of the metadata.

    Only the one tag is read; the rest of the block is never interpreted or copied (ImageOps.
    exif_transpose rewrites the whole block and raises on many damaged ones). An unreadable block
    or an unknown value leaves the image as stored.
    """
    try:
        orientation = img.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - a malformed EXIF block must not reject an otherwise good photo
        return img
    method = _ORIENTATION.get(orientation) if isinstance(orientation, int) else None
    return img.transpose(method) if method is not None else img


def _too_large(max_pixels: int, width: int = 0, height: int = 0) -> str:
    size = f" ({width}x{height} pixels)" if width and height else ""
    return (
        f"The image is too large{size}; the limit is {max_pixels / 1e6:g} megapixels. "
        "Please upload a smaller photo."
    )


# --------------------------------------------------------------------------- cascades

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


# --------------------------------------------------------------------------- detection


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


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], angle: float = 0.0,
              margin: float = CROP_MARGIN, equalize: bool | None = None) -> np.ndarray:
    """FER2013-style crop: rotate by angle about the box centre, cut the box (plus margin),
    resize to 48x48 with INTER_AREA, then histogram-equalise (equalize=None: module EQUALIZE)."""
    x, y, w, h = box
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    n = max(int(round(side)), 1)
    # One affine warp does rotation and crop together; border replication avoids black wedges
    # where the rotated box reaches past the photo's edge.
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[0, 2] += n / 2.0 - cx
    m[1, 2] += n / 2.0 - cy
    patch = cv2.warpAffine(gray, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if n >= FACE_SIZE else cv2.INTER_CUBIC
    out = cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=interp)
    if (EQUALIZE if equalize is None else equalize):
        out = cv2.equalizeHist(out)
    return np.ascontiguousarray(out, dtype=np.uint8)


def detect_faces(image: np.ndarray, max_faces: int = MAX_FACES, align: bool = True) -> list[Face]:
    """Detect faces in an RGB (or gray) uint8 image; largest first, at most max_faces.

    A Haar box is kept only when two plausible eyes are found in it or a second cascade agrees.
    """
    gray = _to_gray(image)
    boxes, other = _detect_boxes(gray)
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    faces = []
    for box in boxes:
        if len(faces) >= max_faces:
            break
        eyes = _find_eyes(gray, box)
        if eyes is None and not _confirmed(gray, box, other):
            continue
        angle = 0.0
        if eyes is not None and align:
            (lx, ly), (rx, ry) = eyes
            # getRotationMatrix2D turns counter-clockwise for positive angles as displayed
            # (y down), which levels an eye line that descends to the right.
            angle = math.degrees(math.atan2(ry - ly, rx - lx))
        faces.append(Face(box=box, crop=crop_face(gray, box, angle), eyes_found=eyes is not None, angle=angle))
    return faces


def equalize(faces: np.ndarray) -> np.ndarray:
    """Histogram-equalise uint8 crops [N,48,48] (or one [48,48]) as detect_faces does.

    Training data must go through this too, so the network sees what serving gives it.
    """
    faces = np.asarray(faces)
    if faces.dtype != np.uint8:
        raise ValueError("faces must be uint8")
    if faces.ndim == 2:
        return cv2.equalizeHist(faces)
    return np.stack([cv2.equalizeHist(f) for f in faces]) if len(faces) else faces.copy()
