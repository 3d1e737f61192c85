"""Hostile and odd uploads at the decoder: bombs found on the header, EXIF orientation only."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from recommender.emotion import ImageDecodeError, ImageTooLarge, decode_image, detect_faces, probe_image
from recommender.emotion.images import MAX_PIXELS


def png_bomb(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: small on disk, width*height pixels once decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(array: np.ndarray, **save_args) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=95, subsampling=0, **save_args)
    return buffer.getvalue()


# A real damaged EXIF block (found by mutating a valid one): Orientation 6 is intact, the GPS
# sub-directory is garbage. Pillow's ImageOps.exif_transpose raises TypeError on it.
DAMAGED_EXIF_ORIENTATION_6 = bytes.fromhex(
    "4578696600004d4d002a000000080003010f0002000000070000003201120003000000010006000088250004"
    "000000010000003a0000000043616d6572610000000200110002000000024e000000000200c9000000030000"
    "0058000000000000000100000001000000020000000100000003ff000001")


def test_it_reads_the_size_from_the_header(astronaut_jpeg):
    assert probe_image(astronaut_jpeg) == ("JPEG", 512, 512)


@pytest.mark.parametrize("side", [7_000, 20_000])  # 49 MP: over our limit only; 400 MP: over Pillow's too
def test_it_refuses_a_decompression_bomb_on_its_header(side, monkeypatch):
    bomb = png_bomb(side, side)
    assert len(bomb) < 200_000  # small on disk

    def decoding(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoding)
    with pytest.raises(ImageTooLarge, match="too large") as refused:
        probe_image(bomb)
    assert isinstance(refused.value, ImageDecodeError)  # callers that catch the old error still do
    with pytest.raises(ImageTooLarge):
        decode_image(bomb)


def test_it_names_the_size_it_refused():
    with pytest.raises(ImageTooLarge) as refused:
        probe_image(png_bomb(7_000, 7_000))
    assert (refused.value.width, refused.value.height) == (7_000, 7_000)
    assert refused.value.max_pixels == MAX_PIXELS
    assert "7000x7000" in str(refused.value)


def test_it_applies_orientation_from_a_damaged_exif_block(astronaut):
    portrait = np.ascontiguousarray(astronaut[:, 56:456])  # 512 high, 400 wide
    stored = np.ascontiguousarray(np.rot90(portrait, k=1))  # on its side, as a phone stores it
    data = jpeg(stored, exif=DAMAGED_EXIF_ORIENTATION_6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corrupt block
        with pytest.raises(TypeError):  # the stock helper cannot cope: this test means something
            ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        image = decode_image(data)
    assert image.shape == (512, 400, 3)
    assert len(detect_faces(image)) == 1


INVERSE = {  # what a camera stores for each orientation, given the upright picture
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _gradient() -> np.ndarray:
    """64 wide, 48 high, no symmetry: any wrong flip or turn changes it a lot."""
    y, x = np.mgrid[0:48, 0:64]
    return np.stack([x * 4, y * 5, 255 - x * 2 - y * 2], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_it_turns_each_orientation_upright(orientation):
    upright = _gradient()
    stored = Image.fromarray(upright)
    if INVERSE[orientation] is not None:
        stored = stored.transpose(INVERSE[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_image(jpeg(np.asarray(stored), exif=exif.tobytes()))
    assert decoded.shape == upright.shape
    assert np.abs(decoded.astype(int) - upright).mean() < 4  # JPEG noise only


@pytest.mark.parametrize("value", [0, 9, 99, 65535])
def test_it_ignores_an_orientation_it_does_not_know(value):
    stored = _gradient()
    exif = Image.Exif()
    exif[0x0112] = value
    decoded = decode_image(jpeg(stored, exif=exif.tobytes()))
    assert np.abs(decoded.astype(int) - stored).mean() < 4


def test_check_image_reads_the_whole_stream_cheaply(astronaut_jpeg):
    from recommender.emotion import UnsupportedImageType, check_image

    assert check_image(astronaut_jpeg) == ("JPEG", 512, 512)
    for kept in (200, len(astronaut_jpeg) // 2, len(astronaut_jpeg) - 40):
        with pytest.raises(ImageDecodeError, match="damaged or incomplete"):
            check_image(astronaut_jpeg[:kept])
    for kept in (len(astronaut_jpeg) // 2, len(astronaut_jpeg) - 40):
        # The header alone says nothing of it: that is why the upload view reads the whole stream.
        assert probe_image(astronaut_jpeg[:kept])[0] == "JPEG"
    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    with pytest.raises(UnsupportedImageType):
        check_image(tiff.getvalue())
    with pytest.raises(UnsupportedImageType):
        decode_image(tiff.getvalue())  # one allow-list: the decoder refuses it too
