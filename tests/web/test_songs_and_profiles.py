"""Saving songs, typical songs and how they shape the playlist; the catalogue import."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from recommender.models import EmotionLabel, Favourite, Song, TypicalSong
from recommender.playlists import recommend

pytestmark = pytest.mark.django_db


def post_json(client, name, body):
    return client.post(reverse(name), json.dumps(body), content_type="application/json")


def test_importing_the_catalogue_twice_keeps_the_same_library(catalogue):
    labels = EmotionLabel.objects.count()
    call_command("import_catalogue", stdout=io.StringIO())
    assert Song.objects.count() == catalogue
    assert EmotionLabel.objects.count() == labels


def test_every_emotion_has_at_least_200_songs(catalogue):
    for emotion in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"):
        assert EmotionLabel.objects.filter(emotion=emotion).values("song").distinct().count() >= 200, emotion


def test_saving_needs_an_account(client, catalogue):
    song = Song.objects.first()
    response = post_json(client, "api:favourites", {"song_id": song.id})
    assert response.status_code == 401
    assert response.json()["error"]


def test_it_saves_and_removes_a_favourite(client, owner, outsider, catalogue):
    song = Song.objects.first()
    client.force_login(owner)
    assert post_json(client, "api:favourites", {"song_id": song.id}).status_code == 201
    assert post_json(client, "api:favourites", {"song_id": song.id}).status_code == 201  # idempotent
    assert Favourite.objects.filter(user=owner).count() == 1
    page = client.get(reverse("my_music"))
    assert song.title in page.content.decode()
    client.force_login(outsider)
    assert client.delete(reverse("api:favourite", args=[song.id])).status_code == 404
    client.force_login(owner)
    assert client.delete(reverse("api:favourite", args=[song.id])).status_code == 204
    assert not Favourite.objects.exists()


def test_it_refuses_unknown_songs_and_bad_bodies(client, owner, catalogue):
    client.force_login(owner)
    assert post_json(client, "api:favourites", {"song_id": 10**9}).status_code == 404
    not_json = client.post(reverse("api:favourites"), "not json", content_type="application/json")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
    assert post_json(client, "api:typical_songs", {"emotion": "bored", "song_id": 1}).status_code == 400


def test_three_typical_songs_per_emotion_at_most(client, owner, catalogue):
    client.force_login(owner)
    songs = list(Song.objects.filter(labels__emotion="happy")[:4])
    for song in songs[:3]:
        assert post_json(client, "api:typical_songs", {"emotion": "happy", "song_id": song.id}).status_code == 201
    response = post_json(client, "api:typical_songs", {"emotion": "happy", "song_id": songs[3].id})
    assert response.status_code == 409
    assert "three" in response.json()["error"]
    assert TypicalSong.objects.filter(user=owner, emotion="happy").count() == 3
    url = reverse("api:typical_song", args=["happy", songs[0].id])
    assert client.delete(url).status_code == 204
    assert post_json(client, "api:typical_songs", {"emotion": "happy", "song_id": songs[3].id}).status_code == 201


def test_the_playlist_follows_the_typical_songs(owner, catalogue):
    newcomer_list = recommend(owner, "happy")
    # Pick three typical songs whose tags differ from the library's default profile.
    default_tags = {t for s in newcomer_list[:3] for t in s["why"]}
    picks = [s for s in Song.objects.filter(labels__emotion="happy").prefetch_related("tags")
             if not {t.name for t in s.tags.all()} & default_tags][:3]
    assert len(picks) == 3
    for song in picks:
        TypicalSong.objects.create(user=owner, emotion="happy", song=song)
    personal = recommend(owner, "happy")
    assert [s["id"] for s in personal] != [s["id"] for s in newcomer_list]
    picked_tags = {t.name for s in picks for t in s.tags.all()}
    assert set(personal[0]["why"]) <= picked_tags and personal[0]["why"]
    assert not {s["id"] for s in personal} & {s.id for s in picks}


def test_no_artist_more_than_twice_and_every_song_says_why(catalogue):
    for emotion in ("happy", "sad", "disgust"):
        playlist = recommend(None, emotion)
        assert len(playlist) >= 10
        artists = [Song.objects.get(pk=s["id"]).artist.casefold() for s in playlist]
        assert max(artists.count(a) for a in artists) <= 2
        assert all(s["why"] for s in playlist)


def test_the_playlist_follows_a_relabel(catalogue, django_capture_on_commit_callbacks):
    from recommender.playlists import get_index

    song = Song.objects.filter(labels__emotion="happy").exclude(labels__emotion="fear").first()
    assert song.id not in get_index().songs_for("fear")
    with django_capture_on_commit_callbacks(execute=True):
        EmotionLabel.objects.create(song=song, emotion="fear", source="admin", confidence=1.0)
    # The admin label outranks the catalogue's: the song now serves fear, and only fear.
    assert song.id in get_index().songs_for("fear")
    assert song.id not in get_index().songs_for("happy")


def test_pages_render(client, owner):
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("my_music")).status_code == 302  # sign in first
    client.force_login(owner)
    assert client.get(reverse("my_music")).status_code == 200


def test_sign_up_logs_the_person_in(client):
    response = client.post(reverse("signup"), {"username": "newperson", "password1": "a-long-test-password",
                                               "password2": "a-long-test-password"})
    assert response.status_code == 302
    assert client.get(reverse("my_music")).status_code == 200
