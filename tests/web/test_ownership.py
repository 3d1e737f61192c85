"""One person can never see or change another's recognitions, songs, settings or snapshots.

The owner has one of everything; the outsider (signed in, or anonymous) tries every endpoint
of webapp/urls.py on it, and afterwards the owner's data is exactly as it was.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from recommender.models import Favourite, HiddenSong, MoodSetting, Recognition, RecognitionCorrection, TypicalSong
from webapp.models import KeptSnapshot, PrivacySetting

pytestmark = pytest.mark.django_db


@pytest.fixture
def songs(few_songs):
    return few_songs


@pytest.fixture
def owned(owner, songs):
    """The owner's recognition, favourite, typical songs (three for happy), hidden song, mood and
    privacy settings and a kept snapshot."""
    recognition = Recognition.objects.create(
        user=owner, status="done", emotion="happy", probabilities={"happy": 0.9, "sad": 0.1},
        songs=[{"id": songs[0].id, "score": 0.9, "why": []}])
    KeptSnapshot.objects.create(user=owner, recognition=recognition, image=b"\xff\xd8\xff owner", width=1, height=1)
    Favourite.objects.create(user=owner, song=songs[0])
    for song in songs[:3]:
        TypicalSong.objects.create(user=owner, emotion="happy", song=song)
    HiddenSong.objects.create(user=owner, song=songs[4])
    MoodSetting.objects.create(user=owner, strategy="lift")
    PrivacySetting.objects.create(user=owner, keep_snapshots=True)
    return recognition


def state_of(user) -> dict:
    """Everything of the person, as values (so a change anywhere shows)."""
    return {
        "recognitions": list(Recognition.objects.filter(user=user).values_list("id", "status", "emotion", "songs", "strategy")),
        "corrections": list(RecognitionCorrection.objects.filter(recognition__user=user).values_list("emotion")),
        "favourites": sorted(Favourite.objects.filter(user=user).values_list("song_id", flat=True)),
        "typical": sorted(TypicalSong.objects.filter(user=user).values_list("emotion", "song_id")),
        "hidden": sorted(HiddenSong.objects.filter(user=user).values_list("song_id", flat=True)),
        "mood": list(MoodSetting.objects.filter(user=user).values_list("strategy", flat=True)),
        "privacy": list(PrivacySetting.objects.filter(user=user).values_list("keep_snapshots", flat=True)),
        "kept": sorted(str(k) for k in KeptSnapshot.objects.filter(user=user).values_list("id", flat=True)),
    }


@pytest.fixture
def intruder(outsider):
    client = Client()
    client.force_login(outsider)
    return client


def test_the_outsider_cannot_read_or_correct_the_owners_recognition(intruder, owner, owned):
    before = state_of(owner)
    assert intruder.get(reverse("api:recognition", args=[owned.id])).status_code == 404
    corrected = intruder.post(reverse("api:recognition_correction", args=[owned.id]), {"emotion": "sad"},
                              content_type="application/json")
    assert corrected.status_code == 404
    assert state_of(owner) == before


def test_the_outsider_cannot_remove_the_owners_songs(intruder, owner, owned, songs):
    before = state_of(owner)
    assert intruder.delete(reverse("api:favourite", args=[songs[0].id])).status_code == 404
    assert intruder.delete(reverse("api:typical_song", args=["happy", songs[0].id])).status_code == 404
    assert intruder.delete(reverse("api:hidden_song", args=[songs[4].id])).status_code == 404
    assert state_of(owner) == before


def test_what_the_outsider_saves_is_their_own(intruder, owner, outsider, owned, songs):
    before = state_of(owner)
    json = {"content_type": "application/json"}
    assert intruder.post(reverse("api:favourites"), {"song_id": songs[1].id}, **json).status_code == 201
    # The owner already has three typical songs for happy; the outsider's first is still welcome.
    assert intruder.post(reverse("api:typical_songs"), {"emotion": "happy", "song_id": songs[4].id}, **json).status_code == 201
    assert intruder.post(reverse("api:hidden_songs"), {"song_id": songs[2].id}, **json).status_code == 201
    assert intruder.post(reverse("api:mood_strategy"), {"strategy": "match"}, **json).status_code == 200
    assert intruder.post(reverse("snapshot_setting"), {}).status_code == 302
    assert state_of(owner) == before
    mine = state_of(outsider)
    assert mine["favourites"] == [songs[1].id] and mine["typical"] == [("happy", songs[4].id)]
    assert mine["hidden"] == [songs[2].id] and mine["mood"] == ["match"] and mine["privacy"] == [False]


def test_the_outsider_cannot_see_or_delete_the_owners_snapshots(intruder, owner, owned):
    before = state_of(owner)
    kept = owned.kept_snapshot
    assert intruder.get(reverse("snapshot", args=[kept.id])).status_code == 404
    assert intruder.delete(reverse("snapshot", args=[kept.id])).status_code == 404
    assert intruder.post(reverse("delete_snapshots")).status_code == 302  # deletes the outsider's: none
    assert state_of(owner) == before


def test_my_music_shows_only_ones_own(intruder, client, owner, owned, songs):
    mine = client
    mine.force_login(owner)
    owners_page = mine.get(reverse("my_music")).content.decode()
    outsiders_page = intruder.get(reverse("my_music")).content.decode()
    kept_url = reverse("snapshot", args=[owned.kept_snapshot.id])
    favourite_url = reverse("api:favourite", args=[songs[0].id])
    assert kept_url in owners_page and favourite_url in owners_page
    assert kept_url not in outsiders_page and favourite_url not in outsiders_page
    assert f"?recognition={owned.id}" in owners_page and str(owned.id) not in outsiders_page


def test_the_outsider_can_only_delete_their_own_account(intruder, owner, outsider, owned):
    before = state_of(owner)
    done = intruder.post(reverse("delete_account"), {"password": "a-long-test-password"})
    assert done.status_code == 302
    assert not type(outsider).objects.filter(pk=outsider.pk).exists()
    assert type(owner).objects.filter(pk=owner.pk).exists() and state_of(owner) == before


def test_nobody_signed_out_gets_anything(client, owner, owned, songs):
    before = state_of(owner)
    kept = owned.kept_snapshot
    json = {"content_type": "application/json"}
    assert client.get(reverse("api:recognition", args=[owned.id])).status_code == 404
    assert client.post(reverse("api:recognition_correction", args=[owned.id]), {"emotion": "sad"}, **json).status_code == 404
    for url in (reverse("api:favourite", args=[songs[0].id]), reverse("api:typical_song", args=["happy", songs[0].id]),
                reverse("api:hidden_song", args=[songs[4].id])):
        assert client.delete(url).status_code == 401
    for url in (reverse("api:favourites"), reverse("api:typical_songs"), reverse("api:hidden_songs"),
                reverse("api:mood_strategy")):
        assert client.post(url, {"song_id": songs[1].id, "emotion": "happy", "strategy": "match"}, **json).status_code == 401
    for method, url in (("get", reverse("snapshot", args=[kept.id])), ("delete", reverse("snapshot", args=[kept.id])),
                        ("post", reverse("snapshot_setting")), ("post", reverse("delete_snapshots")),
                        ("get", reverse("my_music")), ("get", reverse("delete_account")),
                        ("post", reverse("delete_account"))):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), (method, url)
    assert client.get(reverse("admin:index")).status_code == 302
    assert state_of(owner) == before


def test_an_anonymous_recognition_belongs_to_its_browser_only(no_face_photo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    first, second = Client(), Client()
    url = first.post(reverse("api:recognitions"),
                     {"image": SimpleUploadedFile("selfie.jpg", no_face_photo, "image/jpeg")}).json()["url"]
    assert first.get(url).status_code == 200
    assert second.get(url).status_code == 404
    recognition = Recognition.objects.get()
    recognition.status, recognition.emotion = "done", "happy"  # as if a face had been found
    recognition.save()
    assert first.post(reverse("api:recognition_correction", args=[recognition.id]), {"emotion": "sad"},
                      content_type="application/json").status_code == 200
    assert second.post(reverse("api:recognition_correction", args=[recognition.id]), {"emotion": "sad"},
                       content_type="application/json").status_code == 404


# Every named endpoint, and where its ownership is tested: a new endpoint must be added here.
COVERED = {
    "api:recognition", "api:recognition_correction", "api:favourites", "api:favourite", "api:typical_songs",
    "api:typical_song", "api:hidden_songs", "api:hidden_song", "api:mood_strategy", "my_music", "snapshot",
    "snapshot_setting", "delete_snapshots", "delete_account",
}
# Nothing of one person behind these: the snapshot upload (each creates its own), the library,
# pages and sign-in.
# The API description is the same for everyone.
PUBLIC = {"home", "signup", "login", "logout", "api:recognitions", "api:library_songs", "set_language", "api:schema",
          "api:docs"}


def test_every_endpoint_is_covered():
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":  # Django's admin checks staff on every view
                    walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    assert names - COVERED - PUBLIC == set(), "new endpoint: add an outsider test to tests/web/test_ownership.py"
