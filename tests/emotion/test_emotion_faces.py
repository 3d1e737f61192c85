"""Decoding (images.py) and face detection (faces.py) on real photos (no Django, no TensorFlow)."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from recommender.emotion import faces as F
from recommender.emotion.faces import detect_faces
from recommender.emotion.images import MAX_PIXELS, ImageDecodeError, decode_image
from tests.emotion.conftest import skimage_data



def jpeg_bytes(array: np.ndarray, **save_args) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=90, **save_args)
    return buf.getvalue()


def test_it_finds_the_astronauts_one_face_with_its_eyes(astronaut_jpeg):
    image = decode_image(astronaut_jpeg)
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    found = detect_faces(image)
    assert len(found) == 1
    x, y, w, h = found[0].box
    # Her face spans roughly x 175-270, y 65-160 in the 512x512 photo.
    assert 140 <= x <= 210 and 30 <= y <= 100 and 70 <= w <= 140 and abs(w - h) <= 3
    assert found[0].crop.shape == (48, 48) and found[0].crop.dtype == np.uint8
    (lx, ly), (rx, ry) = found[0].eyes
    # Both eyes in the upper half of the box, image-left eye first, 30-60% of the box apart.
    assert x < lx < x + w / 2 < rx < x + w
    assert y < ly < y + h / 2 and y < ry < y + h / 2
    assert 0.3 * w < rx - lx < 0.6 * w


def turned(image, centre, degrees):
    """The photo turned counter-clockwise (as displayed) about centre."""
    m = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(image, m, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("degrees", [-20, 12, 25])
def test_it_finds_and_levels_a_tilted_face(astronaut, degrees):
    upright = detect_faces(astronaut)[0]
    x, y, w, h = upright.box
    found = detect_faces(turned(astronaut, (x + w / 2, y + h / 2), degrees))
    assert len(found) == 1
    # Levelling it needs a clockwise turn of `degrees` on top of her own tilt.
    assert found[0].angle == pytest.approx(upright.angle - degrees, abs=4)
    # The levelled crop matches the upright one far better than the unlevelled crop does.
    levelled, unlevelled = found[0].crop.astype(float), F.crop_face(
        cv2.cvtColor(turned(astronaut, (x + w / 2, y + h / 2), degrees), cv2.COLOR_RGB2GRAY), found[0].box, 0.0)
    reference = upright.crop.astype(float)
    assert np.abs(levelled - reference).mean() < np.abs(unlevelled.astype(float) - reference).mean()


def test_it_applies_exif_orientation(astronaut):
    portrait = np.ascontiguousarray(astronaut[:, 56:456])  # 512 high, 400 wide
    stored = np.ascontiguousarray(np.rot90(portrait, k=1))  # as a phone stores it: on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    data = jpeg_bytes(stored, exif=exif.tobytes())
    upright = detect_faces(portrait)[0]

    # Without EXIF handling the face lies on its side: not found, or found with its eyes far from
    # level (left unlevelled); the test means something.
    sideways = detect_faces(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert not sideways or sideways[0].angle == 0.0 and abs(F.eye_angle(sideways[0].eyes)) > 45
    image = decode_image(data)
    assert image.shape == (512, 400, 3)
    found = detect_faces(image)
    assert len(found) == 1
    assert found[0].angle == pytest.approx(upright.angle, abs=3)
    assert np.abs(np.subtract(found[0].box, upright.box)).max() <= 4


def test_it_finds_no_face_in_a_coffee_cup(coffee_jpeg):
    assert detect_faces(decode_image(coffee_jpeg)) == []


@pytest.mark.parametrize("name", ["chelsea", "cat"])
def test_a_cat_is_not_a_face(name):
    assert detect_faces(getattr(skimage_data, name)()) == []


def test_a_drawn_face_is_not_a_face():
    from bench.bench_detector import drawn_face

    drawing = drawn_face()
    # BlazeFace itself takes it for a face: the gray-level check is what refuses it.
    from recommender.emotion.detector import detect

    assert detect(drawing, "short")
    assert detect_faces(drawing) == []


def test_several_faces_come_largest_first(astronaut):
    head = astronaut[10:290, 110:340]  # her head and shoulders, 280x230
    small = cv2.resize(head, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[150:150 + small.shape[0], 20:20 + small.shape[1]] = small  # the smaller one on the left
    frame[100:380, 380:610] = head
    found = detect_faces(frame)
    assert len(found) == 2
    assert found[0].area > found[1].area
    assert found[0].box[0] > 320 > found[1].box[0]  # the larger face is the one on the right
    assert len(detect_faces(frame, max_faces=1)) == 1


def test_a_small_face_is_found_by_the_second_pass(astronaut):
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[:205, :205] = cv2.resize(astronaut, (205, 205), interpolation=cv2.INTER_AREA)  # face ~38 px
    from recommender.emotion.detector import detect

    assert detect(frame, "short") == []
    assert len(detect_faces(frame)) == 1


def test_it_accepts_gray_and_png_input(astronaut):
    buf = io.BytesIO()
    Image.fromarray(astronaut).convert("L").save(buf, "PNG")
    image = decode_image(buf.getvalue())
    assert image.shape == (512, 512, 3)
    assert len(detect_faces(image)) == 1
    assert len(detect_faces(image[:, :, 0])) == 1


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"%!PS-Adobe-3.0 EPSF-3.0\n"])
def test_it_refuses_bytes_that_are_not_an_image(data):
    with pytest.raises(ImageDecodeError) as err:
        decode_image(data)
    assert "image" in str(err.value) or "empty" in str(err.value)


def test_it_refuses_a_truncated_jpeg(astronaut_jpeg):
    with pytest.raises(ImageDecodeError, match="damaged or incomplete"):
        decode_image(astronaut_jpeg[: len(astronaut_jpeg) // 2])


def _png_bomb(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: a few kB on disk, width*height pixels once decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_it_refuses_a_decompression_bomb():
    bomb = _png_bomb(20_000, 20_000)  # 400 MP: beyond Pillow's own hard limit too
    assert len(bomb) < 200_000
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(bomb)


def test_it_refuses_images_over_our_own_limit():
    image = _png_bomb(7_000, 7_000)  # 49 MP: under Pillow's limit, over MAX_PIXELS
    assert 7_000 * 7_000 > MAX_PIXELS
    with pytest.raises(ImageDecodeError, match=r"7000x7000 pixels"):
        decode_image(image)


def test_the_pixel_limit_is_an_argument(astronaut_jpeg):
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(astronaut_jpeg, max_pixels=100_000)
    assert decode_image(astronaut_jpeg, max_pixels=512 * 512).shape == (512, 512, 3)


def test_equalize_matches_the_crops():
    rng = np.random.default_rng(0)
    rows = rng.integers(40, 120, size=(3, 48, 48), dtype=np.uint8)
    out = F.equalize(rows)
    assert out.shape == rows.shape and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255
    assert np.array_equal(out[1], cv2.equalizeHist(rows[1]))
