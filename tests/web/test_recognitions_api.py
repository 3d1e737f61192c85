"""POST /api/recognitions and GET /api/recognitions/<id>, tasks running in-process."""

import uuid

import pytest
from django.urls import reverse

from recommender.models import Recognition
from tests.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


def post_photo(client, data: bytes, name="selfie.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("api:recognitions"), {"image": SimpleUploadedFile(name, data, content_type)})


def test_it_turns_a_face_into_emotion_and_playlist(client, catalogue, face_photo):
    response = post_photo(client, face_photo)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "url"}
    result = client.get(body["url"]).json()
    assert result["status"] == "done", result
    assert result["faces"] == 1
    probabilities = result["probabilities"]
    assert list(probabilities) == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert sum(probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert result["emotion"] == max(probabilities, key=probabilities.get)
    assert len(result["songs"]) >= 10
    for song in result["songs"]:
        assert song["title"] and song["artist"] and song["url"].startswith("https://")
        assert 0 <= song["score"] <= 1
    scores = [s["score"] for s in result["songs"]]
    assert scores == sorted(scores, reverse=True)


def test_it_reports_no_face_without_guessing(client, catalogue, no_face_photo):
    result = client.get(post_photo(client, no_face_photo).json()["url"]).json()
    assert result["status"] == "failed"
    assert "No face" in result["error"]
    assert result["emotion"] is None and result["songs"] == [] and result["probabilities"] == {}


def test_it_refuses_bytes_that_are_not_an_image(client):
    response = post_photo(client, b"%PDF-1.4 definitely not a photo", name="selfie.jpg")
    assert response.status_code == 415
    assert "not a photo" in response.json()["error"]
    assert not Recognition.objects.exists()


@pytest.mark.parametrize("kept", [200, 0.5, 0.98])
def test_it_refuses_a_truncated_jpeg_at_once(client, face_photo, kept):
    # A header and nothing after it; half the photo; all but its last 2%.
    truncated = face_photo[:kept if isinstance(kept, int) else int(len(face_photo) * kept)]
    response = post_photo(client, truncated)
    assert response.status_code == 400
    assert "damaged or incomplete" in response.json()["error"]
    assert not Recognition.objects.exists()  # no job queued for bytes known to be broken


def test_it_refuses_a_truncated_png_at_once(client):
    import io

    from PIL import Image
    from skimage import data

    png = io.BytesIO()
    Image.fromarray(data.astronaut()).save(png, "PNG")
    astronaut_png = png.getvalue()
    response = post_photo(client, astronaut_png[: len(astronaut_png) * 3 // 4], name="me.png", content_type="image/png")
    assert response.status_code == 400
    assert not Recognition.objects.exists()


def test_it_refuses_a_type_the_decoder_does_not_read(client):
    import io

    from PIL import Image

    tiff = io.BytesIO()
    Image.new("RGB", (64, 64)).save(tiff, "TIFF")  # Pillow reads TIFF, but it is not on the allow-list
    response = post_photo(client, tiff.getvalue(), name="me.tiff", content_type="image/tiff")
    assert response.status_code == 415
    assert not Recognition.objects.exists()


def test_it_refuses_an_upload_over_the_size_limit(client, settings):
    settings.MIEN_MAX_UPLOAD_BYTES = 10_000
    response = post_photo(client, b"\xff\xd8\xff" + b"0" * 20_000)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    assert not Recognition.objects.exists()


def test_it_asks_for_the_image_field(client):
    response = client.post(reverse("api:recognitions"), {"photo": "nothing"})
    assert response.status_code == 400
    assert "image" in response.json()["error"]


def test_it_hides_unknown_and_foreign_recognitions(client, owner, outsider, catalogue, face_photo):
    assert client.get(reverse("api:recognition", args=[uuid.uuid4()])).status_code == 404
    client.force_login(owner)
    url = post_photo(client, face_photo).json()["url"]
    assert client.get(url).status_code == 200
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["error"]
    client.logout()
    assert client.get(url).status_code == 404


def test_an_anonymous_visitor_owns_recognitions_by_session(client, catalogue, face_photo, django_user_model):
    from django.test import Client

    url = post_photo(client, face_photo).json()["url"]
    assert client.get(url).json()["status"] == "done"
    assert Client().get(url).status_code == 404


def test_it_stores_the_outcome_but_never_the_photo(client, catalogue, face_photo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    post_photo(client, face_photo)
    recognition = Recognition.objects.get()
    assert recognition.status == "done"
    stored = {f.name for f in Recognition._meta.get_fields()}
    assert not stored & {"image", "photo", "selfie"}
    assert list(tmp_path.iterdir()) == []


def test_it_accepts_png_by_content_not_name(client, catalogue):
    from skimage import data
    import io
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    response = post_photo(client, buffer.getvalue(), name="selfie.txt", content_type="text/plain")
    assert response.status_code == 202
