"""Privacy: no selfie kept by default; "Keep my snapshots" on request; deleting an account."""

import base64
import io
import json
import os
import pickle
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from recommender.models import (EmotionLabel, Favourite, HiddenSong, MoodSetting, Recognition,
                                 RecognitionCorrection, TypicalSong)
from tests.conftest import jpeg_bytes
from webapp.models import KeptSnapshot, PrivacySetting

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def post_photo(client, data: bytes):
    return client.post(reverse("api:recognitions"), {"image": SimpleUploadedFile("selfie.jpg", data, "image/jpeg")})


def unique_selfie(seed: int) -> bytes:
    """The astronaut with faint noise of this run's own: its bytes exist nowhere else on the machine."""
    from skimage import data

    rng = np.random.default_rng(seed)
    noisy = data.astronaut().astype(int) + rng.integers(-3, 4, size=(512, 512, 3))
    return jpeg_bytes(np.clip(noisy, 0, 255).astype(np.uint8))


def traces_of(photo: bytes) -> list[bytes]:
    """What a stored copy of the photo would contain: a piece of it raw, in hex, in base64."""
    start = (len(photo) // 2) // 3 * 3  # base64 of the whole has this piece's base64 in it
    piece = photo[start:start + 48]
    return [piece, piece.hex().encode(), base64.b64encode(piece), base64.urlsafe_b64encode(piece)]


def _readings(value) -> list[bytes]:
    """A column's value as bytes, plus what it holds when it is signed, compressed session data."""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return [value]
    text = str(value)
    readings = [text.encode("utf-8", "replace")]
    if ":" in text:
        session = SessionStore().decode(text)  # {} unless it is a session of this site
        if session:
            readings.append(json.dumps(session).encode())
    return readings


def database_rows_with(traces: list[bytes]) -> list[str]:
    """Every row of every table, every column, searched for the traces."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if any(trace in blob for blob in _readings(value) for trace in traces):
                        found.append(table)
    return found


def _contents(path: Path, cache_dir: Path) -> list[bytes]:
    raw = path.read_bytes()
    contents = [raw]
    if cache_dir in path.parents:  # Django's file cache: pickled expiry, then zlib(pickle(value))
        try:
            with path.open("rb") as handle:
                pickle.load(handle)
                contents.append(zlib.decompress(handle.read()))
        except Exception:  # noqa: BLE001 - not a cache entry
            pass
    return contents


def files_with(traces: list[bytes], since: float) -> list[str]:
    """Files written since `since` under MEDIA_ROOT, the cache folder, the temporary folder and
    the project's var/, searched for the traces (file-cache entries decompressed first)."""
    cache_dir = Path(django_settings.CACHES["default"]["LOCATION"])
    roots = {Path(django_settings.MEDIA_ROOT), cache_dir, Path(tempfile.gettempdir()),
             Path(django_settings.BASE_DIR) / "var"}
    found = []
    for root in roots:
        for folder, _dirs, names in os.walk(root, onerror=lambda error: None):
            for name in names:
                path = Path(folder) / name
                try:
                    if not path.is_file() or path.stat().st_mtime < since - 1 or path.stat().st_size > 50_000_000:
                        continue
                    contents = _contents(path, cache_dir)
                except OSError:
                    continue  # gone already, or another user's
                if any(trace in blob for blob in contents for trace in traces):
                    found.append(str(path))
    return found


def test_by_default_no_selfie_is_written_to_disk_or_database(client, owner, catalogue):
    started = time.time()
    anonymous_photo, member_photo = unique_selfie(started_seed := int(started * 1000)), unique_selfie(started_seed + 1)
    anonymous = Client()
    assert anonymous.get(anonymous.post(reverse("api:recognitions"), {
        "image": SimpleUploadedFile("selfie.jpg", anonymous_photo, "image/jpeg")}).json()["url"]).json()["status"] == "done"
    client.force_login(owner)  # signed in, "Keep my snapshots" not turned on
    url = post_photo(client, member_photo).json()["url"]
    result = client.get(url).json()
    assert result["status"] == "done" and result["songs"], result  # a full run: face, model, playlist

    traces = traces_of(anonymous_photo) + traces_of(member_photo)
    assert database_rows_with(traces) == []
    assert files_with(traces, started) == []
    assert not KeptSnapshot.objects.exists()


def test_the_search_for_traces_finds_a_stored_photo(owner, tmp_path):
    """The two searches above are not blind: each finds a planted copy."""
    started = time.time()
    photo = unique_selfie(int(started * 1000) + 7)
    traces = traces_of(photo)
    Recognition.objects.create(user=owner, error=base64.b64encode(photo).decode())
    assert database_rows_with(traces) != []
    Recognition.objects.all().delete()
    session = SessionStore()
    session["photo"] = base64.b64encode(photo).decode()  # signed and compressed in the table
    session.save()
    assert database_rows_with(traces) == ["django_session"]
    session.delete()
    KeptSnapshot.objects.create(user=owner, recognition=Recognition.objects.create(user=owner),
                                image=photo, width=512, height=512)
    assert database_rows_with(traces) != []
    (tmp_path / "leak.bin").write_bytes(b"xx" + photo)
    cache.set("leak", base64.b64encode(photo).decode(), 60)
    leaks = files_with(traces, started)
    assert str(tmp_path / "leak.bin") in leaks
    assert any(Path(django_settings.CACHES["default"]["LOCATION"]) in Path(p).parents for p in leaks)


def test_uploads_stay_in_memory_even_when_large(rf, settings, face_photo):
    """Django would spool an upload over FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file; ours never does."""
    from webapp.uploads import MemoryOnlyUploadHandler

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    request = rf.post("/api/recognitions", {"image": SimpleUploadedFile("selfie.jpg", face_photo, "image/jpeg")})
    request.upload_handlers = [MemoryOnlyUploadHandler(request)]
    upload = request.FILES["image"]
    assert isinstance(upload, InMemoryUploadedFile) and upload.read() == face_photo


# --------------------------------------------------------------------------- keep my snapshots


def keep_snapshots(client, on: bool):
    response = client.post(reverse("snapshot_setting"), {"keep_snapshots": "on"} if on else {})
    assert response.status_code == 302 and response["Location"].endswith("#snapshots-heading")


def sideways_selfie_with_location() -> bytes:
    """A phone photo: stored on its side with EXIF orientation 6, camera make and a GPS position."""
    from skimage import data

    stored = np.ascontiguousarray(np.rot90(data.astronaut()[:, 56:456], k=1))  # 400 high, 512 wide
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    return jpeg_bytes(stored, exif=exif.tobytes())


def test_kept_snapshots_are_stored_only_when_asked_and_without_metadata(client, owner):
    client.force_login(owner)
    photo = sideways_selfie_with_location()
    assert b"SpyCam" in photo
    post_photo(client, photo)
    assert not KeptSnapshot.objects.exists()  # off by default

    keep_snapshots(client, True)
    assert PrivacySetting.objects.get(user=owner).keep_snapshots
    url = post_photo(client, photo).json()["url"]
    assert client.get(url).json()["status"] == "done"
    kept = KeptSnapshot.objects.get()
    assert str(kept.recognition_id) in url and kept.user == owner
    stored = bytes(kept.image)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (400, 512) == (kept.width, kept.height)  # upright
    assert not image.getexif() and "exif" not in image.info  # no orientation, make or position left
    assert b"SpyCam" not in stored and not any(trace in stored for trace in traces_of(photo))

    keep_snapshots(client, False)
    post_photo(client, photo)
    assert KeptSnapshot.objects.count() == 1  # the new one was not kept


def test_a_kept_snapshot_is_made_small(client, owner, settings):
    settings.MIEN_KEPT_SNAPSHOT_SIDE = 256
    client.force_login(owner)
    keep_snapshots(client, True)
    post_photo(client, jpeg_bytes(np.full((600, 900, 3), 128, np.uint8)))
    kept = KeptSnapshot.objects.get()
    assert (kept.width, kept.height) == (256, 171)
    assert Image.open(io.BytesIO(bytes(kept.image))).size == (256, 171)


def test_anonymous_snapshots_are_never_kept(client, face_photo):
    post_photo(client, face_photo)
    assert Recognition.objects.count() == 1 and not KeptSnapshot.objects.exists()


def test_my_music_shows_kept_snapshots_and_deletes_them(client, owner, face_photo):
    client.force_login(owner)
    page = client.get(reverse("my_music")).content.decode()
    assert 'name="keep_snapshots"' in page and "checked" not in page.split('id="keep-snapshots"')[1].split(">")[0]
    keep_snapshots(client, True)
    for _ in range(3):
        post_photo(client, face_photo)
    first, second, third = KeptSnapshot.objects.order_by("created_at")
    page = client.get(reverse("my_music")).content.decode()
    assert "checked" in page.split('id="keep-snapshots"')[1].split(">")[0]
    for kept in (first, second, third):
        url = reverse("snapshot", args=[kept.id])
        assert f'src="{url}"' in page and f'data-url="{url}"' in page  # the picture and its delete button

    picture = client.get(reverse("snapshot", args=[first.id]))
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    assert picture["Cache-Control"] == "private, no-store" and picture.content == bytes(first.image)

    assert client.delete(reverse("snapshot", args=[first.id])).status_code == 204
    assert client.get(reverse("snapshot", args=[first.id])).status_code == 404
    assert list(KeptSnapshot.objects.order_by("created_at")) == [second, third]
    assert Recognition.objects.filter(pk=first.recognition_id).exists()  # the outcome stays

    assert client.post(reverse("delete_snapshots")).status_code == 302
    assert not KeptSnapshot.objects.exists() and Recognition.objects.count() == 3
    assert "No kept snapshots." in client.get(reverse("my_music")).content.decode()


# --------------------------------------------------------------------------- deleting an account


def everything_of(user) -> dict:
    return {
        "recognitions": Recognition.objects.filter(user=user).count(),
        "corrections": RecognitionCorrection.objects.filter(recognition__user=user).count(),
        "favourites": Favourite.objects.filter(user=user).count(),
        "typical": TypicalSong.objects.filter(user=user).count(),
        "hidden": HiddenSong.objects.filter(user=user).count(),
        "mood": MoodSetting.objects.filter(user=user).count(),
        "privacy": PrivacySetting.objects.filter(user=user).count(),
        "kept": KeptSnapshot.objects.filter(user=user).count(),
    }


def give_a_life(user, songs):
    recognition = Recognition.objects.create(user=user, status="done", emotion="happy",
                                             probabilities={"happy": 1.0}, songs=[{"id": songs[0].id, "score": 1, "why": []}])
    RecognitionCorrection.objects.create(recognition=recognition, emotion="sad", detected_emotion="happy")
    Favourite.objects.create(user=user, song=songs[0])
    TypicalSong.objects.create(user=user, emotion="happy", song=songs[1])
    HiddenSong.objects.create(user=user, song=songs[2])
    MoodSetting.objects.create(user=user, strategy="lift")
    PrivacySetting.objects.create(user=user, keep_snapshots=True)
    KeptSnapshot.objects.create(user=user, recognition=recognition, image=b"\xff\xd8\xff jpeg", width=1, height=1)


def test_deleting_an_account_removes_everything_of_that_person(client, owner, outsider, few_songs):
    songs = few_songs
    give_a_life(owner, songs)
    give_a_life(outsider, songs)
    label = EmotionLabel.objects.create(song=songs[0], emotion="happy", source="admin", labelled_by=owner)
    assert all(everything_of(owner).values())

    client.force_login(owner)
    page = client.get(reverse("delete_account"))
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")

    wrong = client.post(reverse("delete_account"), {"password": "not my password"})
    assert wrong.status_code == 400 and "not your password" in wrong.content.decode()
    assert all(everything_of(owner).values())

    done = client.post(reverse("delete_account"), {"password": PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("home")
    assert "everything Mien kept about you" in done.content.decode()
    assert not type(owner).objects.filter(pk=owner.pk).exists()
    assert not any(everything_of(owner).values())
    assert "_auth_user_id" not in client.session
    # The other person keeps everything; the curator's label stays, without the name.
    assert all(everything_of(outsider).values())
    label.refresh_from_db()
    assert label.labelled_by is None


def test_deleting_an_account_needs_a_signed_in_person(client):
    response = client.get(reverse("delete_account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_guessing_the_password_on_the_delete_page_is_limited(client, owner, monkeypatch):
    from webapp import ratelimit

    monkeypatch.setattr(ratelimit, "clock", lambda: 900 * 1_900_000 + 15.0)  # not at a window's edge
    client.force_login(owner)
    for _ in range(5):
        assert client.post(reverse("delete_account"), {"password": "guess"}).status_code == 400
    blocked = client.post(reverse("delete_account"), {"password": PASSWORD})
    assert blocked.status_code == 429 and blocked["Retry-After"]
    assert type(owner).objects.filter(pk=owner.pk).exists()


def test_my_music_links_to_account_deletion(client, owner):
    client.force_login(owner)
    assert f'href="{reverse("delete_account")}"' in client.get(reverse("my_music")).content.decode()
