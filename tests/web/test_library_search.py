"""Finding typical songs in a mood's library (GET /api/songs), not only in a playlist."""

import json

import pytest
from django.urls import reverse

from recommender.models import Song, TypicalSong
from recommender.playlists import SEARCH_RESULTS, get_index, profile_for, recommend, search_library

pytestmark = pytest.mark.django_db

URL = reverse("api:library_songs")


def test_it_needs_a_signed_in_person_a_known_mood_and_a_query(client, owner, catalogue):
    assert client.get(URL, {"emotion": "happy", "q": "rock"}).status_code == 401
    client.force_login(owner)
    response = client.get(URL, {"emotion": "bored", "q": "rock"})
    assert response.status_code == 400 and response.json()["error"] == "Unknown emotion."
    assert "Type a title" in client.get(URL, {"emotion": "happy", "q": "   "}).json()["error"]
    too_long = client.get(URL, {"emotion": "happy", "q": "x" * 101})
    assert too_long.status_code == 400 and "at most 100" in too_long.json()["error"]
    assert client.post(URL, {"emotion": "happy", "q": "rock"}).status_code == 405


def test_it_finds_songs_of_that_mood_by_tag_title_or_artist(client, owner, catalogue):
    client.force_login(owner)
    library = set(get_index().songs_for("happy"))
    body = client.get(URL, {"emotion": "happy", "q": "rock"}).json()
    songs = body["songs"]
    assert 3 <= len(songs) <= SEARCH_RESULTS
    assert len({s["id"] for s in songs}) == len(songs)  # a song matching twice comes once
    assert all(s["id"] in library for s in songs)
    assert all("Rock" in s["tags"] or "rock" in (s["title"] + s["artist"]).casefold() for s in songs)
    # The happy library's first songs (its own profile) do not carry the tag: this finds new ground.
    assert not any("rock" in get_index().tags[s["id"]] for s in recommend(None, "happy"))

    song = Song.objects.get(pk=songs[0]["id"])
    by_title = client.get(URL, {"emotion": "happy", "q": song.title}).json()["songs"]
    assert song.id in {s["id"] for s in by_title}
    # Another mood's library is another search.
    other = next(s for s in Song.objects.exclude(id__in=library).filter(title__regex=r"^\w{4,}"))
    assert other.id not in {s["id"] for s in client.get(URL, {"emotion": "happy", "q": other.title}).json()["songs"]}


def test_it_says_which_songs_are_already_typical_and_they_shape_the_profile(client, owner, catalogue):
    client.force_login(owner)
    songs = client.get(URL, {"emotion": "happy", "q": "rock"}).json()["songs"]
    picks = [s for s in songs if "Rock" in s["tags"]][:3]
    assert len(picks) == 3
    for pick in picks:
        response = client.post(reverse("api:typical_songs"), json.dumps({"emotion": "happy", "song_id": pick["id"]}),
                               content_type="application/json")
        assert response.status_code == 201
    again = {s["id"]: s["typical"] for s in client.get(URL, {"emotion": "happy", "q": "rock"}).json()["songs"]}
    assert all(again[p["id"]] for p in picks)
    assert sum(again.values()) == 3
    assert set(TypicalSong.objects.filter(user=owner).values_list("song_id", flat=True)) == {p["id"] for p in picks}
    profile, seeds, basis = profile_for(owner, "happy", get_index())
    assert basis == "typical" and profile["rock"] == 3


def test_search_library_refuses_bad_input(catalogue):
    with pytest.raises(ValueError):
        search_library("bored", "rock")
    with pytest.raises(ValueError):
        search_library("happy", "x" * 101)
    assert search_library("happy", "  ") == []


def test_my_music_offers_the_search_and_the_snap_page_links_to_it(client, owner):
    client.force_login(owner)
    page = client.get(reverse("my_music")).content.decode()
    assert 'id="typical-search"' in page and f'action="{URL}"' in page
    assert page.count('<option value="') >= 7
    assert 'id="choose-typical"' in client.get(reverse("home")).content.decode()
    client.logout()
    assert 'id="choose-typical"' not in client.get(reverse("home")).content.decode()
