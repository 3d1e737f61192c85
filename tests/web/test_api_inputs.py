"""The API's one JSON parser: every malformed, oversized, wrongly typed or non-finite input is a
4xx JSON error with a sentence; nothing under /api/ answers HTML or 5xx (issue #16, probe 2)."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings as hsettings, strategies as st

from recommender.models import Favourite, Recognition, Song, TypicalSong
from tests.conftest import hypothesis_examples

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(owner, few_songs):
    client = Client()
    client.force_login(owner)
    return client


def post_raw(client, name, body: str | bytes):
    return client.post(reverse(f"api:{name}"), body, content_type="application/json")


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 10
    return message


@pytest.mark.parametrize("body, words", [
    ("[" * 20_000 + "]" * 20_000, "nested too deeply"),   # RecursionError before
    ('{"song_id": Infinity}', "finite"),                     # OverflowError before
    ('{"song_id": NaN}', "finite"),
    ('{"song_id": 1e400}', "too large"),                    # OverflowError before
    ('{"song_id": 1.9}', "whole number"),                   # silently song 1 before
    ('{"song_id": true}', "whole number"),                  # silently song 1 before
    ('{"song_id": "1"}', "whole number"),
    ('{"song_id": [1]}', "whole number"),
    ('{"song_id": 100000000000000000000000}', "valid id"),
    ('{"song_id": 0}', "valid id"),
    ('{}', "missing"),
    ('[1, 2]', "JSON object"),
    ('"song"', "JSON object"),
    ("not json", "not valid JSON"),
    (b"\xff\xfe{}", "UTF-8"),
])
def test_a_bad_song_id_body_is_a_400_that_says_why(signed_in, body, words):
    assert words in assert_json_error(post_raw(signed_in, "favourites", body), 400)
    assert not Favourite.objects.exists()


@pytest.mark.parametrize("body", [
    {"emotion": ["happy"], "song_id": 1},   # TypeError: unhashable before
    {"emotion": {"a": 1}, "song_id": 1},
    {"song_id": 1},
    {"emotion": 7, "song_id": 1},
])
def test_a_wrongly_typed_emotion_is_a_400(signed_in, body):
    assert_json_error(post_raw(signed_in, "typical_songs", json.dumps(body)), 400)
    assert not TypicalSong.objects.exists()


def test_a_3_mb_body_is_a_413_in_json(signed_in):
    body = json.dumps({"song_id": 1, "padding": "x" * 3_000_000})
    assert "too large" in assert_json_error(post_raw(signed_in, "favourites", body), 413)


def test_a_well_formed_unknown_song_is_still_a_404(signed_in):
    assert assert_json_error(post_raw(signed_in, "favourites", '{"song_id": 999999999}'), 404) == "No such song."


def test_a_right_body_still_works(signed_in, few_songs):
    song = few_songs[0]
    assert post_raw(signed_in, "favourites", json.dumps({"song_id": song.id})).status_code == 201
    assert post_raw(signed_in, "typical_songs", json.dumps({"emotion": "sad", "song_id": song.id})).status_code == 201
    assert Favourite.objects.filter(song=song).exists() and TypicalSong.objects.filter(song=song).exists()


@pytest.mark.parametrize("path", [
    "/api/favourites/12345678901234567890123",          # 23 digits: a database error before
    "/api/hidden-songs/12345678901234567890123",
    "/api/typical-songs/happy/12345678901234567890123",
    "/api/favourites/999999",                           # not a favourite: HTML 404 before
    "/api/typical-songs/happy/999999",
    "/api/hidden-songs/999999",
    "/api/no-such-thing",
])
def test_deleting_what_is_not_there_is_a_json_404(signed_in, path):
    assert_json_error(signed_in.delete(path), 404)


def test_a_wrong_method_is_a_json_405_with_allow(signed_in):
    response = signed_in.get(reverse("api:favourites"))
    assert_json_error(response, 405)
    assert response["Allow"] == "POST"


def test_a_missing_csrf_token_is_a_json_403(owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert_json_error(post_raw(strict, "favourites", "{}"), 403)


# --------------------------------------------------------------------------- property-based

JSON_POST_ENDPOINTS = ["favourites", "hidden-songs", "typical-songs", "mood-strategy"]
DELETE_PREFIXES = ["favourites/", "hidden-songs/", "typical-songs/happy/", "typical-songs/", "recognitions/"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(["song_id", "emotion", "strategy", "x"]), json_values, max_size=3)
    .map(lambda d: json.dumps(d, allow_nan=True)),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.binary(max_size=64),
    st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(['{"song_id": 1e400}', '{"song_id": -Infinity}', '{"emotion": "happy", "song_id": 1.0}']),
)
path_tails = st.one_of(st.integers(min_value=-10, max_value=10**30).map(str),
                       st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=30))


def assert_answers_json_without_a_5xx(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:300])
        payload = response.json()
        if response.status_code >= 400:
            assert isinstance(payload["error"], str) and payload["error"]


@pytest.fixture
def finished_recognition(owner):
    return Recognition.objects.create(user=owner, status=Recognition.Status.DONE, emotion="sad",
                                      probabilities={"sad": 1.0})


@hsettings(max_examples=hypothesis_examples(200))
@given(endpoint=st.sampled_from([*JSON_POST_ENDPOINTS, "recognitions", "correction"]), body=bodies)
def test_no_generated_body_gets_a_5xx_or_html(signed_in, finished_recognition, endpoint, body):
    if endpoint == "correction":
        endpoint = f"recognitions/{finished_recognition.id}/correction"
    response = signed_in.post(f"/api/{endpoint}", body, content_type="application/json")
    assert_answers_json_without_a_5xx(response)


@hsettings(max_examples=hypothesis_examples(150))
@given(prefix=st.sampled_from(DELETE_PREFIXES), tail=path_tails, method=st.sampled_from(["get", "delete", "post"]))
def test_no_generated_path_gets_a_5xx_or_html(signed_in, prefix, tail, method):
    from urllib.parse import quote

    response = getattr(signed_in, method)("/api/" + prefix + quote(tail, safe=""))
    assert_answers_json_without_a_5xx(response)


@hsettings(max_examples=hypothesis_examples(60))
@given(emotion=st.one_of(st.text(max_size=12), st.sampled_from(["happy", "sad"])), query=st.text(max_size=300))
def test_no_generated_search_gets_a_5xx_or_html(signed_in, emotion, query):
    response = signed_in.get(reverse("api:library_songs"), {"emotion": emotion, "q": query})
    assert_answers_json_without_a_5xx(response)


def test_the_songs_still_exist_after_the_storm(few_songs):
    assert Song.objects.count() == len(few_songs)
