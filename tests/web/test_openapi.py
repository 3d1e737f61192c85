"""docs/openapi.yaml against the real API: every operation is sent its happy path and each of its
errors through Django's test client, and every answer (status, headers, every field) is validated
with openapi-core. A status, a header or a field the schema does not declare fails the test, and so
does a declared answer that no request here produced."""

import io
import json
import os
import re
import uuid
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.request import RawPostDataException
from django.test import Client
from django.urls import URLPattern, get_resolver, resolve, reverse
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from PIL import Image

import webapp.ratelimit as ratelimit
from recommender import emotion
from recommender.models import Recognition, Song
from tests.integration.workers import broker, free_port
from webapp import openapi as api_schema

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")

# Answers the schema declares for code that parallel branches bring (see /work/notes/wt21.md). Each
# is sent and held to the schema where that code is present, which after the merge is everywhere;
# before it, and only then, the answer may go unseen.
STRICT_BODIES = find_spec("webapp.jsonbody") is not None  # wt16: bounded, typed JSON bodies; 411
LONG_POLL = find_spec("webapp.recognition_wait") is not None  # wt15: ?wait=N, 400 for a bad one
DAMAGED_PHOTO_400 = hasattr(emotion, "check_image")  # wt15: a damaged photo is refused at upload
JSON_POSTS = ("/api/favourites", "/api/hidden-songs", "/api/typical-songs",
              "/api/recognitions/{recognition_id}/correction", "/api/mood-strategy")
NOT_YET_HERE = {
    **{("post", path, "411"): not STRICT_BODIES for path in ("/api/recognitions", *JSON_POSTS)},
    **{("post", path, "413"): not STRICT_BODIES for path in JSON_POSTS},
    **{("post", path, "400"): not STRICT_BODIES for path in ("/api/favourites", "/api/hidden-songs")},
    ("get", "/api/recognitions/{recognition_id}", "400"): not LONG_POLL,
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return api_schema.schema()


class AnsweredRequest(DjangoOpenAPIRequest):
    """A request already answered: a multipart body has been consumed by the view, and answers are
    checked against the operation alone (openapi-core's protocol check still looks for a body).
    A middleware may answer before URL resolution (411): its path is resolved here instead."""

    @property
    def path_pattern(self) -> str:
        match = self.request.resolver_match or resolve(self.request.path_info)
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)

    @property
    def body(self) -> bytes:
        try:
            return self.request.body
        except RawPostDataException:
            return b""


@pytest.fixture(scope="module")
def checker(spec):
    # The YAML form of /api/schema is held to the same shape as its JSON form.
    return OpenAPI.from_dict(spec, config=Config(extra_media_type_deserializers={"application/yaml": lambda text, **_params: yaml.safe_load(text)}))


class Recorder:
    """Validates each answer against the schema and remembers which (method, path, status) it saw."""

    def __init__(self, checker):
        self.checker = checker
        self.seen: set[tuple[str, str, str]] = set()
        self.problems: list[str] = []
        self.examples: dict[tuple[str, str, str], list] = {}

    def __call__(self, response, expected_status: int):
        request = response.wsgi_request
        route = AnsweredRequest(request).path_pattern
        key = (request.method.lower(), route, str(response.status_code))
        label = f"{request.method} {request.get_full_path()} -> {response.status_code}"
        if response.status_code != expected_status:
            self.problems.append(f"{label}: expected {expected_status}: {response.content[:300]!r}")
        try:
            self.checker.validate_response(AnsweredRequest(request), DjangoOpenAPIResponse(response))
        except Exception as exc:  # noqa: BLE001 - every kind of mismatch is reported together below
            causes = [exc, *(getattr(exc, "schema_errors", None) or []), exc.__cause__]
            self.problems.append(f"{label}: " + " / ".join(str(c)[:400] for c in causes if c))
        self.seen.add(key)
        if response.get("Content-Type", "").startswith("application/json") and response.content:
            self.examples.setdefault(key, []).append(response.json())
        return response


def photo(data: bytes, name="selfie.jpg", content_type="image/jpeg"):
    return {"image": SimpleUploadedFile(name, data, content_type)}


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")  # tiny file, many pixels
    return buffer.getvalue()


def as_json(client, method, url, body=None):
    return getattr(client, method)(url, data=json.dumps(body) if body is not None else "",
                                   content_type="application/json")


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.fixture
def cache_down(settings):
    """Redis unreachable behind the cache and the broker, as when it is stopped in production."""
    down = closed_redis_url()

    class Down:
        def __enter__(self):
            self.saved = settings.CACHES
            settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                           "LOCATION": down}}
            self.broker = broker(down)
            self.broker.__enter__()

        def __exit__(self, *exc):
            self.broker.__exit__(*exc)
            settings.CACHES = self.saved

    return Down()


@pytest.fixture
def stopped_clock(monkeypatch):
    monkeypatch.setattr(ratelimit, "clock", lambda: 900 * 1_900_000 + 15.0)


def test_the_schema_is_valid_openapi_3_1(spec):
    validate_spec(spec)  # openapi-spec-validator: raises on any departure from the 3.1 specification
    assert spec["openapi"].startswith("3.1")


def test_every_api_url_is_described_and_nothing_else(spec):
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/")
    routes = {"/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern))
              for p in api.url_patterns if isinstance(p, URLPattern)}
    assert routes == set(spec["paths"])


def test_every_example_in_the_schema_fits_its_schema(spec):
    checked = 0
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            contents = [operation.get("requestBody", {}).get("content", {})]
            contents += [api_schema.deref(r, spec).get("content", {}) for r in operation["responses"].values()]
            for content in contents:
                for media in content.values():
                    for name, example in (media.get("examples") or {}).items():
                        schema = {**media["schema"], "components": spec["components"]}
                        errors = list(OAS31Validator(schema).iter_errors(example["value"]))
                        assert not errors, (method, path, name, [e.message for e in errors])
                        checked += 1
    assert checked >= 20


def test_the_checker_refuses_a_field_or_a_status_the_schema_does_not_declare(checker, client):
    """The validation below is not vacuous: one extra field, or an undeclared status, fails it."""
    from django.http import JsonResponse

    response = client.get(reverse("api:recognition", args=[uuid.uuid4()]))
    request = AnsweredRequest(response.wsgi_request)
    checker.validate_response(request, DjangoOpenAPIResponse(response))  # the real one passes
    with pytest.raises(Exception):
        checker.validate_response(request, DjangoOpenAPIResponse(
            JsonResponse({"error": "No such recognition.", "hint": "extra"}, status=404)))
    with pytest.raises(Exception):
        checker.validate_response(request, DjangoOpenAPIResponse(JsonResponse({"error": "x"}, status=418)))


def test_every_answer_of_every_operation_is_the_one_the_schema_declares(
        spec, checker, catalogue, face_photo, no_face_photo, owner, django_user_model, settings,
        cache_down, stopped_clock):
    check = Recorder(checker)
    anonymous, person, strict = Client(), Client(), Client(enforce_csrf_checks=True)
    person.force_login(owner)

    # --- snapshots and recognitions
    created = check(anonymous.post(reverse("api:recognitions"), photo(face_photo)), 202)
    assert created["Location"] == created.json()["url"]
    done = check(anonymous.get(created.json()["url"]), 200).json()
    assert done["status"] == "done" and done["songs"], done
    failed_url = check(anonymous.post(reverse("api:recognitions"), photo(no_face_photo)), 202).json()["url"]
    assert check(anonymous.get(failed_url), 200).json()["status"] == "failed"
    pending = Recognition.objects.create(session_key=anonymous.session.session_key)
    assert check(anonymous.get(reverse("api:recognition", args=[pending.id])), 200).json()["status"] == "pending"
    check(anonymous.get(reverse("api:recognition", args=[uuid.uuid4()])), 404)
    if LONG_POLL:
        waited = check(anonymous.get(reverse("api:recognition", args=[pending.id]), {"wait": "0.5"}), 200)
        assert waited.json()["status"] == "pending"
        check(anonymous.get(reverse("api:recognition", args=[pending.id]), {"wait": "soon"}), 400)
        check(anonymous.get(reverse("api:recognition", args=[pending.id]), {"wait": "-1"}), 400)
    check(anonymous.post(reverse("api:recognitions"), photo(face_photo[:200])), 400 if DAMAGED_PHOTO_400 else 202)
    check(Client().get(created.json()["url"]), 404)  # another session's
    check(anonymous.post(reverse("api:recognitions"), {"photo": "no image field"}), 400)
    check(anonymous.post(reverse("api:recognitions"), photo(b"")), 400)
    check(anonymous.post(reverse("api:recognitions"), photo(b"%PDF-1.4 not a photo")), 415)
    check(anonymous.post(reverse("api:recognitions"), photo(png(7_000, 7_000), "big.png", "image/png")), 413)
    settings.MIEN_MAX_UPLOAD_BYTES = 10_000
    check(anonymous.post(reverse("api:recognitions"), photo(b"\xff\xd8\xff" + b"0" * 20_000)), 413)
    settings.MIEN_MAX_UPLOAD_BYTES = 8 * 1024 * 1024
    with cache_down:
        check(anonymous.post(reverse("api:recognitions"), photo(face_photo)), 503)
    rates = settings.MIEN_SNAPSHOT_RATE, settings.MIEN_SNAPSHOT_IP_RATE
    settings.MIEN_SNAPSHOT_RATE = settings.MIEN_SNAPSHOT_IP_RATE = (1, 60)
    limited = Client()
    check(limited.post(reverse("api:recognitions"), photo(b"not a photo"), REMOTE_ADDR="203.0.113.5"), 415)
    too_many = check(limited.post(reverse("api:recognitions"), photo(face_photo), REMOTE_ADDR="203.0.113.5"), 429)
    assert too_many["Retry-After"] == str(too_many.json()["retry_after"])
    settings.MIEN_SNAPSHOT_RATE, settings.MIEN_SNAPSHOT_IP_RATE = rates

    # --- corrections (a signed-in person's recognition)
    mine = check(person.post(reverse("api:recognitions"), photo(face_photo)), 202).json()
    detected = person.get(mine["url"]).json()
    correction_url = detected["correction_url"]
    other = next(e for e in ("sad", "happy") if e != detected["emotion"])
    corrected = check(as_json(person, "post", correction_url, {"emotion": other}), 200).json()
    assert corrected["corrected_emotion"] == other
    undone = check(as_json(person, "post", correction_url, {"emotion": detected["emotion"]}), 200).json()
    assert undone["corrected_emotion"] is None
    check(as_json(person, "post", correction_url, {"emotion": "bored"}), 400)
    check(as_json(person, "post", reverse("api:recognition_correction", args=[uuid.uuid4()]), {"emotion": "sad"}), 404)
    waiting = Recognition.objects.create(user=owner)
    check(as_json(person, "post", reverse("api:recognition_correction", args=[waiting.id]), {"emotion": "sad"}), 409)
    with cache_down:
        check(as_json(person, "post", correction_url, {"emotion": other}), 503)

    # --- saved, typical and hidden songs
    songs = [s["id"] for s in detected["songs"]][:4]
    missing_song = {"song_id": 10**9}
    for create, delete, extra in (("api:favourites", "api:favourite", {}),
                                  ("api:hidden_songs", "api:hidden_song", {})):
        check(as_json(person, "post", reverse(create), {"song_id": songs[0]}), 201)
        check(as_json(person, "post", reverse(create), missing_song), 404)
        if STRICT_BODIES:
            for malformed in ({"song_id": str(songs[0])}, {"song_id": 1.5}, {"song_id": True}, {}, [songs[0]]):
                check(as_json(person, "post", reverse(create), malformed), 400)
            check(person.post(reverse(create), data=b"{not json", content_type="application/json"), 400)
        check(as_json(anonymous, "post", reverse(create), {"song_id": songs[0]}), 401)
        check(person.delete(reverse(delete, args=[songs[0]])), 204)
        check(person.delete(reverse(delete, args=[songs[0]])), 404)
        check(anonymous.delete(reverse(delete, args=[songs[0]])), 401)
    for song in songs[:3]:
        check(as_json(person, "post", reverse("api:typical_songs"), {"emotion": "happy", "song_id": song}), 201)
    check(as_json(person, "post", reverse("api:typical_songs"), {"emotion": "happy", "song_id": songs[0]}), 200)
    check(as_json(person, "post", reverse("api:typical_songs"), {"emotion": "happy", "song_id": songs[3]}), 409)
    check(as_json(person, "post", reverse("api:typical_songs"), {"emotion": "bored", "song_id": songs[3]}), 400)
    check(as_json(person, "post", reverse("api:typical_songs"), {"emotion": "sad", **missing_song}), 404)
    check(as_json(anonymous, "post", reverse("api:typical_songs"), {"emotion": "sad", "song_id": songs[3]}), 401)
    check(person.delete(reverse("api:typical_song", args=["happy", songs[0]])), 204)
    check(person.delete(reverse("api:typical_song", args=["happy", songs[0]])), 404)
    check(anonymous.delete(reverse("api:typical_song", args=["happy", songs[0]])), 401)

    # --- mood strategy: JSON, and the My music page's form
    assert check(as_json(person, "post", reverse("api:mood_strategy"), {"strategy": "lift"}), 200).json() == {
        "strategy": "lift"}
    check(as_json(person, "post", reverse("api:mood_strategy"), {"strategy": "sulk"}), 400)
    check(as_json(anonymous, "post", reverse("api:mood_strategy"), {"strategy": "lift"}), 401)
    check(person.post(reverse("api:mood_strategy"), {"strategy": "match"}), 302)
    check(anonymous.post(reverse("api:mood_strategy"), {"strategy": "match"}), 302)

    # --- library search
    found = Song.objects.get(pk=songs[1])
    search = reverse("api:library_songs")
    result = check(person.get(search, {"emotion": detected["emotion"], "q": found.artist}), 200).json()
    assert result["songs"], result
    check(person.get(search, {"emotion": "bored", "q": "rock"}), 400)
    check(person.get(search, {"emotion": "happy", "q": "  "}), 400)
    check(person.get(search, {"emotion": "happy", "q": "x" * 101}), 400)
    check(anonymous.get(search, {"emotion": "happy", "q": "rock"}), 401)
    with cache_down:
        check(person.get(search, {"emotion": "happy", "q": "rock"}), 503)

    # --- every state change without the CSRF token: Django's 403 page
    strict.force_login(owner)
    recognition_id = uuid.UUID(mine["id"])
    arguments = {"recognition_id": recognition_id, "song_id": songs[1], "emotion": "happy"}
    for path, item in spec["paths"].items():
        for method in ("post", "delete"):
            if method in item and "403" in item[method]["responses"]:
                url = path.format(**arguments)
                check(getattr(strict, method)(url, data={"strategy": "lift"} if method == "post" else None), 403)

    if STRICT_BODIES:  # every POST: a chunked body (411); every JSON POST: a body over 64 KB (413)
        for path in ("/api/recognitions", *JSON_POSTS):
            url = path.format(**arguments)
            check(person.post(url, data=b"{}", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"),
                  411)
            if path in JSON_POSTS:
                check(as_json(person, "post", url, {"emotion": "sad", "song_id": songs[1], "pad": "x" * 70_000}),
                      413)

    # --- the description itself
    check(anonymous.get(reverse("api:schema")), 200)
    check(anonymous.get(reverse("api:schema"), {"format": "yaml"}), 200)
    check(anonymous.get(reverse("api:schema"), {"format": "xml"}), 400)
    check(anonymous.get(reverse("api:docs")), 200)

    if out := os.environ.get("MIEN_RECORD_API_EXAMPLES"):  # every JSON answer, to refresh the schema's examples
        Path(out).write_text(json.dumps({" ".join(k): v for k, v in sorted(check.examples.items())},
                                        ensure_ascii=False, indent=1))
    assert not check.problems, "\n".join(check.problems)
    declared = {(method, path, status) for path, item in spec["paths"].items()
                for method in METHODS if method in item for status in item[method]["responses"]}
    not_here = {answer for answer, absent in NOT_YET_HERE.items() if absent}
    assert declared - check.seen - not_here == set(), "declared but never answered"
    assert check.seen - declared == set(), "answered but never declared"


def test_undeclared_methods_answer_405(spec, client):
    ids = {"recognition_id": uuid.uuid4(), "song_id": 1, "emotion": "happy"}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                response = getattr(client, method)(path.format(**ids))
                assert response.status_code == 405, (method, path, response.status_code)


def test_the_docs_page_shows_every_operation_and_answer(spec, client):
    page = client.get(reverse("api:docs")).content.decode()
    for operation in api_schema.operations(spec):
        assert f'id="{operation["id"]}"' in page
        assert f"<code>{operation['path']}</code>" in page
    # Served from this site alone: no script at all, stylesheets from our static files.
    assert "<script" not in page
    assert all(href.startswith("/static/") for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page))
