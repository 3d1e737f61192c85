"""Security: deploy settings, hostile uploads, rate limits, CSRF."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from recommender.models import Favourite, MoodSetting, Recognition, RecognitionCorrection
from tests.conftest import jpeg_bytes
from tests.emotion.test_image_safety import DAMAGED_EXIF_ORIENTATION_6, png_bomb
from webapp import ratelimit
from webapp.models import PrivacySetting

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)


def post_photo(client, data: bytes, name="selfie.jpg", content_type="image/jpeg", **extra):
    return client.post(reverse("api:recognitions"), {"image": SimpleUploadedFile(name, data, content_type)}, **extra)


# --------------------------------------------------------------------------- deploy settings


def run_django(code_or_args, **env):
    """Run manage.py (a list of arguments) or Python code (a string) with only this environment."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
             "DJANGO_SETTINGS_MODULE": "webapp.settings", **env}
    command = ([sys.executable, "manage.py", *code_or_args] if isinstance(code_or_args, list)
               else [sys.executable, "-c", code_or_args])
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "MIEN_SNAPSHOT_RATE")}))
"""
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "mien.example.org"}


@pytest.fixture(autouse=True)
def collected_static(tmp_path_factory):
    """A STATIC_ROOT holding collectstatic's manifest, so that the deploy check's webapp.E001 (no
    manifest) stays quiet here; tests/web/test_production.py runs the real collectstatic."""
    root = tmp_path_factory.getbasetemp() / "collected-static"
    root.mkdir(exist_ok=True)
    (root / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')
    PRODUCTION["STATIC_ROOT"] = str(root)


def test_it_passes_the_deploy_check_with_secure_defaults():
    check = run_django(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    shown = run_django(SHOW_SETTINGS, **PRODUCTION)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # no client may claim https by a header
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["MIEN_SNAPSHOT_RATE"] == [20, 60]  # 20 a minute unless the environment says otherwise


def test_the_redirect_can_be_left_to_a_tls_proxy():
    env = dict(PRODUCTION, MIEN_SECURE_SSL_REDIRECT="0", MIEN_PROXY_SSL_HEADER="X-Forwarded-Proto")
    check = run_django(["check", "--deploy", "--fail-level", "WARNING"], **env)
    assert check.returncode == 0, check.stdout + check.stderr
    values = json.loads(run_django(SHOW_SETTINGS, **env).stdout)
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # Everything else stays strict.
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True


def test_the_deploy_check_still_catches_what_is_turned_off():
    env = dict(PRODUCTION, SESSION_COOKIE_SECURE="0")
    check = run_django(["check", "--deploy", "--fail-level", "WARNING"], **env)
    assert check.returncode != 0
    assert "security.W012" in check.stderr  # SESSION_COOKIE_SECURE


@pytest.mark.parametrize("env, named", [
    ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "short-key"}, "SECRET_KEY is too weak"),
    ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY is too weak"),  # long, but two distinct characters
    ({"SECRET_KEY": "django-insecure-" + STRONG_KEY}, "SECRET_KEY is too weak"),
    ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must name"),
    ({"MIEN_SNAPSHOT_RATE": "lots"}, "MIEN_SNAPSHOT_RATE must look like"),
])
def test_production_settings_refuse_to_start_without_what_they_need(env, named):
    result = run_django(["check"], **dict(PRODUCTION, **env))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_make_run_still_starts_with_debug_and_no_secrets():
    result = run_django(["check"], DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value, expected", [
    ("20/m", (20, 60)), ("5/15m", (5, 900)), ("100/h", (100, 3600)), ("3/10s", (3, 10)),
    ("1000/day", (1000, 86400)), ("20 / min", (20, 60)),
])
def test_rates_are_read_from_the_environment(monkeypatch, value, expected):
    from webapp.settings import env_rate

    monkeypatch.setenv("MIEN_TEST_RATE", value)
    assert env_rate("MIEN_TEST_RATE", "1/s") == expected


@pytest.mark.parametrize("value", ["20", "0/m", "20/0m", "20/fortnight", "-1/m", "m/20"])
def test_a_bad_rate_stops_the_start(monkeypatch, value):
    from webapp.settings import env_rate

    monkeypatch.setenv("MIEN_TEST_RATE", value)
    with pytest.raises(ImproperlyConfigured, match="MIEN_TEST_RATE"):
        env_rate("MIEN_TEST_RATE", "1/s")


# --------------------------------------------------------------------------- uploads


def test_a_decompression_bomb_is_refused_before_decoding(client, monkeypatch):
    from PIL import ImageFile

    def decoding(*args, **kwargs):
        raise AssertionError("the web process decoded the pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoding)
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels of zeros, under 200 kB
    assert len(bomb) < 200_000
    response = post_photo(client, bomb, name="selfie.png", content_type="image/png")
    assert response.status_code == 413
    assert "40 megapixels" in response.json()["error"]
    assert not Recognition.objects.exists()


def test_an_image_just_over_the_pixel_limit_is_refused(client, settings):
    from recommender.emotion import MAX_PIXELS

    assert settings.MIEN_MAX_PIXELS == MAX_PIXELS  # the web and the worker agree
    response = post_photo(client, png_bomb(7_000, 7_000), name="selfie.png")  # 49 MP
    assert response.status_code == 413 and "megapixels" in response.json()["error"]
    assert not Recognition.objects.exists()


def test_an_upload_over_the_size_limit_is_refused_while_reading(client, settings):
    settings.MIEN_MAX_UPLOAD_BYTES = 50_000
    data = b"\xff\xd8\xff" + os.urandom(200_000)
    response = post_photo(client, data)
    assert response.status_code == 413 and "too large" in response.json()["error"]
    assert not Recognition.objects.exists()


def test_the_type_comes_from_the_bytes_not_the_name(client, no_face_photo):
    # A real JPEG called a PDF is a photo...
    assert post_photo(client, no_face_photo, name="report.pdf", content_type="application/pdf").status_code == 202
    # ...and HTML or SVG called a JPEG is not.
    for fake in (b"<html><script>alert(1)</script></html>", b'<svg xmlns="http://www.w3.org/2000/svg"/>'):
        response = post_photo(client, fake, name="selfie.jpg", content_type="image/jpeg")
        assert response.status_code == 415
    assert Recognition.objects.count() == 1


def test_a_damaged_exif_block_does_not_stop_a_sideways_selfie(client):
    from skimage import data

    portrait = data.astronaut()[:, 56:456]
    stored = np.ascontiguousarray(np.rot90(portrait, k=1))  # on its side; EXIF says "turn it"
    response = post_photo(client, jpeg_bytes(stored, exif=DAMAGED_EXIF_ORIENTATION_6))
    assert response.status_code == 202
    result = client.get(response.json()["url"]).json()
    assert result["status"] == "done", result
    assert result["faces"] == 1  # found only because the orientation was applied


# --------------------------------------------------------------------------- rate limits


@pytest.fixture
def clock(monkeypatch):
    """The rate limiter's clock, stopped 15 s into a minute and into a quarter hour."""
    now = [900 * 1_900_000 + 15.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


def snap(client, ip, **extra):
    """A cheap snapshot request: counted by the limiter, refused as not-a-photo after it."""
    return post_photo(client, b"not a photo", REMOTE_ADDR=ip, **extra)


def test_the_snapshot_limit_is_20_a_minute_then_429(client, clock, settings):
    assert settings.MIEN_SNAPSHOT_RATE == (20, 60)  # the default
    for _ in range(20):
        assert snap(client, "203.0.113.1").status_code == 415
    refused = snap(client, "203.0.113.1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"  # a sliding window: until the oldest of the 20 is a minute old
    assert "60 seconds" in refused.json()["error"]
    # Another address is not affected...
    assert snap(client, "203.0.113.2").status_code == 415
    # ...and the first one may snap again once a minute has passed since its first snapshot.
    clock[0] += 59
    assert snap(client, "203.0.113.1").status_code == 429
    clock[0] += 1
    assert snap(client, "203.0.113.1").status_code == 415


def test_a_refused_snapshot_is_not_processed(client, clock, settings, face_photo):
    settings.MIEN_SNAPSHOT_RATE = settings.MIEN_SNAPSHOT_IP_RATE = (1, 60)
    assert post_photo(client, b"not a photo", REMOTE_ADDR="203.0.113.9").status_code == 415
    assert post_photo(client, face_photo, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert not Recognition.objects.exists()


def test_the_limit_follows_the_person_across_addresses(client, clock, owner, outsider):
    client.force_login(owner)
    for i in range(20):
        assert snap(client, f"198.51.100.{i}").status_code == 415  # 20 addresses, one person
    assert snap(client, "198.51.100.99").status_code == 429
    other = Client()
    other.force_login(outsider)
    assert snap(other, "198.51.100.99").status_code == 415  # another person there is not


def test_the_limit_holds_whatever_debug_says(client, clock, settings):
    settings.DEBUG = True
    settings.MIEN_SNAPSHOT_IP_RATE = (3, 60)
    assert [snap(client, "203.0.113.7").status_code for _ in range(4)] == [415, 415, 415, 429]


def test_a_forwarded_for_header_is_not_trusted_by_default(client, clock, settings):
    settings.MIEN_SNAPSHOT_IP_RATE = (2, 60)
    codes = [snap(client, "203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(3)]
    assert codes == [415, 415, 429]


def test_behind_our_proxy_the_client_address_is_the_forwarded_one(rf, settings):
    settings.MIEN_TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.8")
    assert ratelimit.client_ip(request) == "203.0.113.8"  # what our proxy saw, not what the client wrote
    settings.MIEN_TRUSTED_PROXIES = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"


def test_ipv6_clients_are_counted_per_64_block(rf):
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    other = rf.get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::7")
    elsewhere = rf.get("/", REMOTE_ADDR="2001:db8:1:3::1")
    assert ratelimit.client_ip(one) == ratelimit.client_ip(other) == "2001:db8:1:2::/64"
    assert ratelimit.client_ip(elsewhere) != ratelimit.client_ip(one)


def test_the_page_explains_a_429():
    """camera.js turns a 429 into a sentence a person understands."""
    script = (ROOT / "static" / "js" / "camera.js").read_text()
    assert "response.status === 429" in script and "strings.tooMany" in script


def login(client, username, password, ip, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_logins_make_the_sixth_wait(client, clock, owner):
    for _ in range(5):
        failed = login(client, "owner", "wrong password", "203.0.113.20")
        assert failed.status_code == 200 and "_auth_user_id" not in client.session
    # Even the right password is not checked now.
    blocked = login(client, "owner", "a-long-test-password", "203.0.113.20")
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "900"  # 15 minutes after the first of the five failures
    assert "Wait 15 minutes" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # The same person from elsewhere is not locked out.
    elsewhere = Client()
    assert login(elsewhere, "owner", "a-long-test-password", "203.0.113.21").status_code == 302
    # Once the window is over, the right password works here too.
    clock[0] += 900
    assert login(client, "owner", "a-long-test-password", "203.0.113.20").status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_a_right_password_clears_the_count(client, clock, owner):
    for _ in range(4):
        login(client, "owner", "wrong password", "203.0.113.22")
    assert login(client, "owner", "a-long-test-password", "203.0.113.22").status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, "owner", "wrong password", "203.0.113.22").status_code == 200
    assert login(client, "owner", "a-long-test-password", "203.0.113.22").status_code == 302


def test_one_address_cannot_spray_many_user_names(client, clock, settings, owner):
    settings.MIEN_LOGIN_IP_RATE = (3, 900)
    for name in ("alice", "bob", "carol"):
        assert login(client, name, "guess", "203.0.113.23").status_code == 200
    assert login(client, "owner", "a-long-test-password", "203.0.113.23").status_code == 429


def test_the_admin_login_is_limited_too(client, clock, django_user_model):
    django_user_model.objects.create_superuser("boss", password="a-long-admin-password")
    url = reverse("admin:login")
    for _ in range(5):
        assert login(client, "boss", "wrong", "203.0.113.24", url).status_code == 200
    blocked = login(client, "boss", "a-long-admin-password", "203.0.113.24", url)
    assert blocked.status_code == 429 and blocked["Retry-After"]
    assert "_auth_user_id" not in client.session


# --------------------------------------------------------------------------- CSRF


@pytest.fixture
def strict(owner):
    """A signed-in browser whose POSTs and DELETEs are CSRF-checked as in production."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def csrf_token(client) -> str:
    page = client.get(reverse("home"))
    assert page.status_code == 200
    return client.cookies["csrftoken"].value


def test_every_view_is_csrf_protected():
    exempt = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
                exempt.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    assert exempt == []


def test_a_snapshot_without_the_token_is_refused(strict, no_face_photo):
    assert post_photo(strict, no_face_photo).status_code == 403
    assert not Recognition.objects.exists()
    token = csrf_token(strict)
    accepted = post_photo(strict, no_face_photo, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 202


def test_state_changes_without_the_token_are_refused(strict, owner, few_songs):
    song = few_songs[0]
    Favourite.objects.create(user=owner, song=song)
    recognition = Recognition.objects.create(user=owner, status="done", emotion="happy")
    json_body = {"content_type": "application/json"}
    attempts = [
        ("post", reverse("api:favourites"), {"data": {"song_id": song.id}, **json_body}),
        ("delete", reverse("api:favourite", args=[song.id]), {}),
        ("post", reverse("api:typical_songs"), {"data": {"emotion": "happy", "song_id": song.id}, **json_body}),
        ("delete", reverse("api:typical_song", args=["happy", song.id]), {}),
        ("post", reverse("api:hidden_songs"), {"data": {"song_id": song.id}, **json_body}),
        ("delete", reverse("api:hidden_song", args=[song.id]), {}),
        ("post", reverse("api:mood_strategy"), {"data": {"strategy": "lift"}}),
        ("post", reverse("api:recognition_correction", args=[recognition.id]),
         {"data": {"emotion": "sad"}, **json_body}),
        ("post", reverse("snapshot_setting"), {"data": {"keep_snapshots": "on"}}),
        ("post", reverse("delete_snapshots"), {}),
        ("post", reverse("delete_account"), {"data": {"password": "a-long-test-password"}}),
        ("post", reverse("logout"), {}),
    ]
    for method, url, kwargs in attempts:
        response = getattr(strict, method)(url, **kwargs)
        assert response.status_code == 403, (method, url, response.status_code)
    # Nothing changed: the favourite is still there, nothing was added, the person still signed in.
    assert Favourite.objects.filter(user=owner).count() == 1
    assert not owner.typical_songs.exists() and not owner.hidden_songs.exists()
    assert not MoodSetting.objects.filter(user=owner).exists()
    assert not RecognitionCorrection.objects.exists()
    assert not PrivacySetting.objects.exists()
    assert type(owner).objects.filter(pk=owner.pk).exists()
    assert strict.get(reverse("my_music")).status_code == 200


def test_logging_in_needs_the_token(owner):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(reverse("login"), {"username": "owner", "password": "a-long-test-password"}).status_code == 403
    browser.get(reverse("login"))
    token = browser.cookies["csrftoken"].value
    response = browser.post(reverse("login"), {"username": "owner", "password": "a-long-test-password",
                                               "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def _fetch_calls(script: str):
    """Each fetch(...) call's text and the 1200 characters before it (its function's set-up)."""
    for match in re.finditer(r"\bfetch\(", script):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(script)):
            depth += {"(": 1, ")": -1}.get(script[end], 0)
            if depth == 0:
                break
        yield script[match.start():end + 1], script[max(0, match.start() - 1200):match.start()]


def test_the_pages_scripts_send_the_token_with_every_state_change(settings):
    """Every fetch that is not a plain GET carries X-CSRFToken, read from Django's cookie (the
    browser tests then run these scripts against a live server that enforces it)."""
    assert not settings.CSRF_COOKIE_HTTPONLY and settings.CSRF_COOKIE_NAME == "csrftoken"
    checked = 0
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        script = path.read_text()
        for call, before in _fetch_calls(script):
            options = call.split(",", 1)[1] if "," in call else ""
            if re.fullmatch(r"\s*\w+\s*\)", options):  # fetch(url, options): look at how options was built
                name = options.strip(" )")
                built = before[before.rfind(f"const {name} ="):]
                if "method" in built:
                    assert "X-CSRFToken" in before, (path.name, call)
                    checked += 1
            elif "method" in options:
                assert "X-CSRFToken" in options, (path.name, call)
                checked += 1
        if "X-CSRFToken" in script:
            assert re.search(r"csrftoken=", script), path.name  # read from Django's cookie
    assert checked >= 3  # camera.js's request() and My music's remove and typical-song calls
