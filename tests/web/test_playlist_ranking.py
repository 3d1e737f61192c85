"""Playlists ranked through ranking.recommend: co-occurrence in people's kept songs, its reasons on
the page's JSON, and the paper's cosine kept as a setting."""

import pytest
from django.urls import reverse

from recommender.models import Favourite, Recognition, TypicalSong
from recommender.playlists import get_index, playlist_for_recognition, profile_for, recommend
from recommender.ranking import rank

pytestmark = pytest.mark.django_db


def people_who_keep(django_user_model, songs, how_many=2):
    for n in range(how_many):
        person = django_user_model.objects.create_user(f"keeper{n}", password="a-long-test-password")
        Favourite.objects.bulk_create([Favourite(user=person, song_id=s) for s in songs])


def test_people_who_kept_my_songs_bring_what_they_also_kept(client, owner, django_user_model, catalogue):
    index = get_index()
    library = index.candidates_by_emotion["happy"]
    seeds = library[:3]
    TypicalSong.objects.bulk_create([TypicalSong(user=owner, emotion="happy", song_id=s) for s in seeds])
    before = [pick["id"] for pick in recommend(owner, "happy")]
    # A happy song far down the tag ranking, which two other people kept with the same three songs.
    profile, _seeds, basis = profile_for(owner, "happy", get_index())
    assert basis == "typical"
    by_tags = [s for s, _ in rank(profile, {s: index.tags.get(s, ()) for s in library if s not in seeds})]
    kept = by_tags[len(by_tags) // 2]
    assert kept not in before
    people_who_keep(django_user_model, [*seeds, kept])

    picks = recommend(owner, "happy")
    pick = next(p for p in picks if p["id"] == kept)
    assert picks.index(pick) < 3 and set(pick["kept_with"]) <= set(seeds) and pick["kept_with"]
    # What the page gets: the reason names the typical songs people kept it with.
    recognition = Recognition.objects.create(user=owner, status="done", emotion="happy",
                                             probabilities={"happy": 0.9}, face_count=1)
    recognition.songs, recognition.strategy = playlist_for_recognition(recognition)
    recognition.save()
    client.force_login(owner)
    body = client.get(reverse("api:recognition", args=[recognition.id])).json()
    song = next(s for s in body["songs"] if s["id"] == kept)
    people = [r for r in song["reasons"] if r["kind"] == "people"]
    assert people and people[0]["text"].startswith("People who kept “") and people[0]["songs"]
    assert all(r["kind"] != "people" for s in body["songs"] if s["id"] != kept and s["id"] not in
               {p["id"] for p in picks if p.get("kept_with")} for r in s["reasons"])


def test_my_own_kept_songs_do_not_count_as_other_people(owner, catalogue):
    library = get_index().candidates_by_emotion["sad"]
    TypicalSong.objects.bulk_create([TypicalSong(user=owner, emotion="sad", song_id=s) for s in library[:3]])
    Favourite.objects.create(user=owner, song_id=library[-1])
    assert not any(pick.get("kept_with") for pick in recommend(owner, "sad"))


def test_the_papers_cosine_stays_available_as_a_setting(settings, owner, django_user_model, catalogue):
    settings.MIEN_RANKING = "cosine"
    index = get_index()
    library = index.candidates_by_emotion["happy"]
    seeds = library[:3]
    TypicalSong.objects.bulk_create([TypicalSong(user=owner, emotion="happy", song_id=s) for s in seeds])
    people_who_keep(django_user_model, [*seeds, library[-1]])
    picks = recommend(owner, "happy")
    assert all("kept_with" not in p and "listed_with" not in p for p in picks)
    profile, _seeds, _basis = profile_for(owner, "happy", get_index())
    cosines = dict(rank(profile, {s: get_index().tags.get(s, ()) for s in library}))
    assert [p["score"] for p in picks] == [round(cosines[p["id"]], 4) for p in picks]
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)


def test_the_catalogue_brings_its_playlist_memberships_and_ingest_unions_them(catalogue):
    from recommender.library import ingest_many
    from recommender.models import Song

    song = Song.objects.filter(source="netease").exclude(playlists=[]).order_by("id").first()
    assert song.playlists and all(isinstance(p, int) for p in song.playlists)
    listed = get_index().lists[song.id]
    assert {f"playlist:{p}" for p in song.playlists} <= set(listed)
    item = {"source": "netease", "external_id": song.external_id, "title": song.title, "artist": song.artist,
            "playlists": [song.playlists[0], 12345]}
    ingest_many([item])
    ingest_many([item])  # idempotent
    song.refresh_from_db()
    assert 12345 in song.playlists and len(song.playlists) == len(set(song.playlists))
    ingest_many([dict(item, playlists="not a list")])  # a malformed field adds nothing
    assert Song.objects.get(pk=song.pk).playlists == song.playlists
