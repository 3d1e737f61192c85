"""An uploaded photo, from bytes to pixels: the allow-list of image types, a header-only probe and a
cheap integrity check for the web request, and the full decode (EXIF-upright RGB) for the worker.

Pure core: Pillow only (no Django). Every refusal is an ImageDecodeError whose message is fit for
the person who uploaded the photo.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "MAX_PIXELS",
    "ALLOWED_FORMATS",
    "DAMAGED",
    "ImageDecodeError",
    "ImageTooLarge",
    "UnsupportedImageType",
    "probe_image",
    "check_image",
    "decode_image",
]

# Refuse images whose decoded size exceeds this (a 40 MP photo is ~120 MB as RGB).
MAX_PIXELS = 40_000_000

# THE allow-list of image types, for the upload view and the decoder alike: the formats a browser
# or phone uploads; keeps exotic decoders (EPS via Ghostscript, TIFF, ...) out of reach. Phones'
# multi-picture JPEGs (MPO) open through the JPEG plugin. Filtered to the formats this Pillow build
# can open (e.g. WebP needs libwebp), since Image.open rejects unknown names.
Image.init()
ALLOWED_FORMATS = tuple(f for f in ("JPEG", "PNG", "WEBP", "GIF", "BMP") if f in Image.OPEN)


class ImageDecodeError(ValueError):
    """The upload is not an image we can read (unknown format, damaged, or too large)."""


class UnsupportedImageType(ImageDecodeError):
    """The bytes are not an image of one of the ALLOWED_FORMATS."""


class ImageTooLarge(ImageDecodeError):
    """The image's header declares more pixels than allowed (a decompression bomb, or a huge photo)."""

    def __init__(self, message: str, width: int = 0, height: int = 0, max_pixels: int = MAX_PIXELS):
        super().__init__(message)
        self.width, self.height, self.max_pixels = width, height, max_pixels


def probe_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) read from the image's header alone, without decoding a pixel.

    Cheap enough for a web request: refuses decompression bombs (ImageTooLarge) and bytes that are
    not an image of an allowed format (ImageDecodeError) before anything big is allocated.
    """
    img = _open_header(data, max_pixels)
    return img.format, img.width, img.height


def check_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """probe_image, plus a cheap read of the whole stream: a truncated or damaged image raises
    ImageDecodeError here, in the web request, rather than in a background job.

    A JPEG is decoded at 1/8 scale in DCT space (libjpeg still reads every coded block: ~1 ms for a
    640x480 frame); a PNG's chunks are checked against their CRCs without inflating the pixels; the
    other allowed formats (rare from a camera) are decoded in full, within max_pixels.
    """
    img = _open_header(data, max_pixels)
    found = img.format, img.width, img.height
    if img.format == "PNG":
        try:
            img.verify()
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise ImageDecodeError(DAMAGED) from exc
        return found
    if img.format == "JPEG":
        img.draft("L" if img.mode == "L" else img.mode, (1, 1))
    _load(img, max_pixels)
    return found


DAMAGED = "The image file is damaged or incomplete; please upload it again."


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
        raise UnsupportedImageType(
            "The file is not an image we can read; please upload a JPEG, PNG, WebP, GIF or BMP photo."
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageDecodeError(DAMAGED) from exc
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
    _load(img, max_pixels)
    try:
        upright = _upright(img)
        rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
    except (OSError, ValueError) as exc:
        raise ImageDecodeError("The image uses a colour format we cannot read.") from exc
    return np.asarray(rgb, dtype=np.uint8)


def _load(img: Image.Image, max_pixels: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_too_large(max_pixels), max_pixels=max_pixels) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        # Pillow reports truncation as OSError("image file is truncated ...") and corrupt
        # headers or chunks as SyntaxError, ValueError or struct.error depending on the plugin.
        raise ImageDecodeError(DAMAGED) from exc


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
