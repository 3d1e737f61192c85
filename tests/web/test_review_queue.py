"""The curators' review queue: low-confidence labels of any source, people's pushback (hides,
corrected playlists), the order by impact, the evidence on each row, one-click decisions, and the
admin index's count per emotion. The fresh-install test runs on the bundled catalogue."""

import gzip
import json
from pathlib import Path

import pytest
from django.urls import reverse

from recommender import curation, review
from recommender.library import ingest_many
from recommender.models import (EmotionLabel, HiddenSong, LabelChange, Recognition, RecognitionCorrection, Song,
                                TypicalSong)
from recommender.playlists import playlist_for_recognition, recommend

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
CATALOGUE = Path(__file__).resolve().parents[2] / "recommender" / "catalogue" / "songs.jsonl.gz"
SURE_HAPPY = {"angry": 0.01, "disgust": 0.01, "fear": 0.01, "happy": 0.9, "sad": 0.03, "surprise": 0.02,
              "neutral": 0.02}


def item(n, emotion="happy", confidence=0.9, tags=("pop", "dance"), source="deezer"):
    return {"source": source, "external_id": str(n), "title": f"Song {n}", "artist": f"Artist {n}",
            "tags": list(tags), "emotions": {emotion: confidence}, "url": f"https://example.com/{n}"}


@pytest.fixture
def curator(django_user_model):
    user = django_user_model.objects.create_user("cora", password=PASSWORD, is_staff=True)
    user.groups.add(curation.curator_group())
    return user


@pytest.fixture
def people(django_user_model):
    return [django_user_model.objects.create_user(f"listener{i}", password=PASSWORD) for i in range(4)]


@pytest.fixture
def library():
    """Confident happy songs from the catalogue, two doubtful catalogue songs, a doubtful model one."""
    ingest_many([item(n) for n in range(8)])
    ingest_many([item(20, "angry", 0.5, ("rock",)), item(21, "fear", 0.3, ("dark",))])
    ingest_many([item(30, "sad", 0.45, ("piano",))], label_source="model")
    return {s.external_id: s for s in Song.objects.all()}


def queue_ids(**thresholds):
    return list(review.review_queue(**thresholds).values_list("external_id", flat=True))


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def finished_playlist(user, emotion="happy"):
    """A finished recognition whose playlist is made (and saved) the way the task makes it."""
    recognition = Recognition.objects.create(user=user, status="done", emotion=emotion, face_count=1,
                                             probabilities=SURE_HAPPY)
    recognition.songs, recognition.strategy = playlist_for_recognition(recognition)
    recognition.save()
    return recognition


# -- what waits ----------------------------------------------------------------------------------

def test_low_labels_of_every_source_wait_lowest_first(library, curator):
    assert queue_ids() == ["21", "30", "20"]  # catalogue 0.30, model 0.45, catalogue 0.50
    assert queue_ids(threshold=0.4) == ["21"]
    curation.confirm([library["21"]], user=curator)
    assert queue_ids() == ["30", "20"]
    curation.set_active([library["20"]], False)  # out of the library: no longer shapes playlists
    assert queue_ids() == ["30"]


def test_a_confident_model_label_outranks_a_doubtful_catalogue_one(library):
    ingest_many([item(20, "angry", 0.95, ("rock",))], label_source="model")
    assert "20" not in queue_ids()
    ingest_many([item(7, "sad", 0.2)], label_source="model")  # the model doubts a confident catalogue song
    assert "7" in queue_ids()


def test_the_threshold_is_a_setting(library, settings, monkeypatch):
    monkeypatch.setattr(review, "REVIEW_THRESHOLD", 0.35)
    assert queue_ids() == ["21"]


def test_songs_most_playlists_list_come_first(library, people):
    for person in people[:2]:
        finished_playlist(person, "happy")
    shaped = set(Recognition.playlist_songs.through.objects.values_list("song_id", flat=True))
    listed = {pick["id"] for r in Recognition.objects.all() for pick in r.songs}
    assert shaped == listed
    song = Song.objects.filter(id__in=listed).order_by("id").first()
    # A doubtful song that two playlists listed goes before the less doubtful ones no playlist lists.
    EmotionLabel.objects.filter(song=song).update(confidence=0.55)
    rows = list(review.review_queue())
    assert [s.external_id for s in rows] == [song.external_id, "21", "30", "20"]
    assert (rows[0].playlist_count, rows[1].playlist_count) == (2, 0)


# -- people's pushback ---------------------------------------------------------------------------

def test_a_song_hidden_by_several_people_waits_until_a_curator_decides(client, library, people, curator, settings):
    song = library["3"]
    settings.MIEN_REVIEW_MIN_HIDES = 3
    for person in people[:3]:
        client.force_login(person)
        assert post_json(client, reverse("api:hidden_songs"), {"song_id": song.id}).status_code == 201
        assert ("3" in queue_ids()) == (person == people[2])  # two hides are not enough
    row = review.review_queue().get(pk=song.pk)
    assert (row.hides, review.reasons(row)) == (3, [review.REASON_HIDDEN])
    assert not row.low_confidence and row.pushed_back

    curation.confirm([song], user=curator)  # the curator keeps the label: the hides are answered
    assert "3" not in queue_ids()
    client.force_login(people[3])
    post_json(client, reverse("api:hidden_songs"), {"song_id": song.id})
    assert review.with_review_signals().get(pk=song.pk).hides == 1  # only hides since the decision count
    settings.MIEN_REVIEW_MIN_HIDES = 1
    assert "3" in queue_ids()


def test_a_song_that_keeps_appearing_in_corrected_playlists_waits(client, library, people, settings):
    settings.MIEN_REVIEW_MIN_CORRECTIONS = 2
    recognitions = [finished_playlist(person, "happy") for person in people[:2]]
    shown = [{pick["id"] for pick in r.songs} for r in recognitions]
    common = shown[0] & shown[1]
    assert common
    client.force_login(people[0])
    url = reverse("api:recognition_correction", args=[recognitions[0].id])
    assert post_json(client, url, {"emotion": "sad"}).status_code == 200
    correction = RecognitionCorrection.objects.get(recognition=recognitions[0])
    # The songs the person turned down are kept, not the re-ranked playlist they got instead.
    assert set(correction.playlist_songs.values_list("id", flat=True)) == shown[0]
    assert not {s.external_id for s in Song.objects.filter(id__in=common)} & set(queue_ids())
    client.force_login(people[1])
    post_json(client, reverse("api:recognition_correction", args=[recognitions[1].id]), {"emotion": "angry"})
    waiting = review.review_queue().filter(id__in=common)
    assert waiting.count() == len(common)
    assert all(review.reasons(s) == [review.REASON_CORRECTED] and s.corrections == 2 for s in waiting)
    # Undoing a correction (saying the detected emotion) takes its signal back.
    post_json(client, reverse("api:recognition_correction", args=[recognitions[1].id]), {"emotion": "happy"})
    assert not review.review_queue().filter(id__in=common).exists()


# -- the admin -----------------------------------------------------------------------------------

def test_one_click_confirms_or_changes_a_label_with_history(client, library, curator, people,
                                                           django_capture_on_commit_callbacks):
    TypicalSong.objects.create(user=people[0], emotion="happy", song=library["0"])
    assert library["20"].id not in {pick["id"] for pick in recommend(people[0], "happy", length=50)}
    client.force_login(curator)
    queue_url = reverse("admin:recommender_songreview_changelist")
    decide = reverse("admin:recommender_songreview_decide")
    page = client.get(queue_url).content.decode()
    assert f'name="review_confirm" value="{library["21"].pk}"' in page
    assert f'name="review_emotion_{library["20"].pk}"' in page

    response = client.post(decide, {"review_confirm": library["21"].pk}, HTTP_REFERER=queue_url, follow=True)
    assert "Confirmed" in response.content.decode() and "Fear 1.00 (admin)" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the library index follows on commit
        response = client.post(decide, {"review_relabel": library["20"].pk,
                                        f"review_emotion_{library['20'].pk}": "happy"}, HTTP_REFERER=queue_url)
    assert response.status_code == 302 and response["Location"] == queue_url
    history = {c.song.external_id: (c.old, c.new, c.via, c.changed_by) for c in LabelChange.objects.all()}
    assert history == {"21": ("fear 0.30 (catalogue)", "fear 1.00 (admin)", "confirm", curator),
                       "20": ("angry 0.50 (catalogue)", "happy 1.00 (admin)", "review", curator)}
    assert queue_ids() == ["30"]
    assert library["20"].id in {pick["id"] for pick in recommend(people[0], "happy", length=50)}

    # Bad input changes nothing.
    response = client.post(decide, {"review_relabel": library["30"].pk, f"review_emotion_{library['30'].pk}": "bored"},
                           follow=True)
    assert "Pick an emotion" in response.content.decode()
    assert client.post(decide, {"review_confirm": "999999"}).status_code == 404
    assert client.get(decide).status_code == 405
    assert LabelChange.objects.count() == 2


def test_a_staff_member_without_curation_rights_cannot_decide(client, library, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    client.force_login(clerk)
    response = client.post(reverse("admin:recommender_songreview_decide"), {"review_confirm": library["21"].pk})
    assert response.status_code == 403
    assert not LabelChange.objects.exists()
    assert "review-waiting" not in client.get(reverse("admin:index")).content.decode()


def test_rows_show_the_model_evidence_and_the_pushback_counts(client, library, curator, people, settings):
    settings.MIEN_REVIEW_MIN_HIDES = 1
    HiddenSong.objects.create(user=people[0], song=library["5"])
    client.force_login(curator)
    response = client.get(reverse("admin:recommender_songreview_changelist"))
    rows = {s.external_id: s for s in response.context["cl"].result_list}
    assert set(rows) == {"5", "20", "21", "30"}
    page = response.content.decode()
    assert "Sad 0.45 (model)" in page and "not kept" in page and "no lyrics" in page
    assert "hidden by people" in page and "low confidence" in page
    filtered = client.get(reverse("admin:recommender_songreview_changelist") + "?because=pushback")
    assert [s.external_id for s in filtered.context["cl"].result_list] == ["5"]


# -- a fresh install: the bundled catalogue -------------------------------------------------------

def catalogue_entries():
    with gzip.open(CATALOGUE, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_on_a_fresh_install_the_queue_holds_the_doubtful_catalogue_songs(client, catalogue, curator,
                                                                       django_assert_max_num_queries):
    doubtful = [e for e in catalogue_entries() if max(e["emotions"].values()) < review.REVIEW_THRESHOLD]
    assert len(doubtful) > 100
    waiting = review.review_queue()
    assert waiting.count() == len(doubtful)
    assert set(waiting.values_list("source", "external_id")) == {(e["source"], e["external_id"]) for e in doubtful}
    confidences = list(waiting.values_list("label_confidence", flat=True))
    assert confidences == sorted(confidences)  # no playlists yet: lowest confidence first

    client.force_login(curator)
    with django_assert_max_num_queries(12):  # whatever the page size: no query per row
        response = client.get(reverse("admin:recommender_songreview_changelist") + "?q=假行僧")
    assert [s.title for s in response.context["cl"].result_list] == ["假行僧"]
    page = response.content.decode()
    assert "Angry 0.50 (catalogue)" in page
    assert "rock without a soft/positive mood tag" in page and "fired on 100% of its NetEase playlists" in page
    assert "tags used: Rock" in page

    page = client.get(reverse("admin:recommender_songreview_changelist") + "?source=deezer").content.decode()
    assert "valence/arousal sector" in page  # Deezer's labels come from the circumplex

    index = client.get(reverse("admin:index")).content.decode()
    assert f"{len(doubtful)} songs wait for review" in index
    total, per_emotion = review.waiting_per_emotion()
    assert total == len(doubtful)
    for emotion, count in per_emotion.items():
        assert f'?emotion={emotion}">' in index
        filtered = client.get(reverse("admin:recommender_songreview_changelist") + f"?emotion={emotion}")
        assert filtered.context["cl"].result_count == count


# -- catalogue evidence, on its own ----------------------------------------------------------------

def test_it_finds_the_rule_behind_a_catalogue_label():
    from recommender.catalogue_evidence import explain

    # 0.5 = weight 0.5 x (0.5 + 0.5 x 1): "rock without a soft mood tag" on all the song's playlists.
    [reason] = explain("netease", {"rock", "nostalgic", "pop"}, "angry", 0.5)
    assert (reason.kind, reason.tags, reason.weight, reason.share) == ("netease", ["rock"], 0.5, 1.0)
    assert "calm" in reason.without
    # 0.6 = weight 0.8 x (0.5 + 0.5 x 0.5): rock + excited on half of them (the 0.5 rule cannot give 0.6).
    [reason] = explain("netease", {"rock", "excited"}, "angry", 0.6)
    assert (reason.tags, reason.weight, reason.share) == (["excited", "rock"], 0.8, 0.5)
    assert explain("netease", {"pop"}, "angry", 0.5)[0].kind == "sector"  # no NetEase rule: merged from Deezer
    [sector] = explain("deezer", {"tense", "dark"}, "fear", 0.4)
    assert sector.kind == "sector" and ("tense", "V < 0 and A >= 0.35") in sector.derived_tags
    assert sector.sector == (88, 132, 110)
    assert explain("spotify", {"cheerful"}, "happy", 1.0)[0].kind == "spotify_mood"
