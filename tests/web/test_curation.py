"""Curation: relabel and approve with history, admin filters and bulk actions, the curator group,
and the library in Excel (round trip, bad rows, edited emotions)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from recommender import curation, spreadsheet
from recommender.library import ingest_many
from recommender.models import EmotionLabel, LabelChange, Song, Tag, TypicalSong
from recommender.playlists import get_index, recommend

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def item(n, emotion="sad", confidence=0.9, tags=("piano", "calm")):
    return {"source": "deezer", "external_id": str(n), "title": f"Song {n}", "artist": f"Artist {n % 7}",
            "tags": list(tags), "emotions": {emotion: confidence}, "url": f"https://example.com/{n}"}


@pytest.fixture
def library():
    """Twelve songs: six sad from the catalogue, three happy and three uncertain from the model."""
    ingest_many([item(n) for n in range(6)])
    ingest_many([item(n, "happy", 0.9, ("pop", "dance")) for n in range(6, 9)], label_source="model")
    ingest_many([item(n, "angry", c, ("rock",)) for n, c in ((9, 0.2), (10, 0.35), (11, 0.5))],
                label_source="model")
    return {s.external_id: s for s in Song.objects.all()}


@pytest.fixture
def curator(django_user_model):
    user = django_user_model.objects.create_user("cora", password=PASSWORD, is_staff=True)
    user.groups.add(curation.curator_group())
    return user


def labels_of(song):
    return curation.effective_labels(EmotionLabel.objects.filter(song=song))


def test_it_relabels_with_history(library, curator):
    song = library["0"]
    assert curation.set_emotion([song], "happy", user=curator) == 1
    assert labels_of(song) == ("admin", {"happy": 1.0})
    change = LabelChange.objects.get(song=song)
    assert (change.changed_by, change.old, change.new, change.via) == (curator, "sad 0.90 (catalogue)",
                                                                       "happy 1.00 (admin)", "relabel")
    assert change.changed_at is not None
    # The same relabel again changes nothing and writes no history.
    assert curation.set_emotion([song], "happy", user=curator) == 0
    assert LabelChange.objects.filter(song=song).count() == 1


def test_approving_turns_model_labels_into_admin_labels(library, curator):
    songs = [library["9"], library["0"]]  # a model label and a catalogue one
    assert curation.approve(songs, user=curator) == 1
    assert labels_of(library["9"]) == ("admin", {"angry": 1.0})
    assert labels_of(library["0"]) == ("catalogue", {"sad": 0.9})
    assert LabelChange.objects.get(song=library["9"]).via == "approve"


def test_admin_labels_survive_reingest_and_relabelling_by_the_model(library, curator):
    curation.set_emotion([library["0"], library["9"]], "fear", user=curator)
    ingest_many([item(0, "sad", 0.8)])
    ingest_many([item(9, "angry", 0.99, ("rock",))], label_source="model")
    call_command("import_catalogue", stdout=io.StringIO())
    assert labels_of(library["0"]) == ("admin", {"fear": 1.0})
    assert labels_of(library["9"]) == ("admin", {"fear": 1.0})
    with pytest.raises(ValueError):
        ingest_many([item(0, "sad")], label_source="admin")


def test_the_review_queue_lists_uncertain_model_labels_lowest_first(library, curator):
    queue = list(curation.review_queue(threshold=0.6).values_list("external_id", flat=True))
    assert queue == ["9", "10", "11"]
    curation.approve([library["9"]], user=curator)
    assert list(curation.review_queue(threshold=0.4).values_list("external_id", flat=True)) == ["10"]


def test_soft_delete_and_tags_are_reversible(library, curator, django_capture_on_commit_callbacks):
    song = library["0"]
    assert song.id in get_index().songs_for("sad")
    with django_capture_on_commit_callbacks(execute=True):
        curation.set_active([song], False)
    assert song.id not in get_index().songs_for("sad")
    with django_capture_on_commit_callbacks(execute=True):
        curation.set_active([song], True)
    assert song.id in get_index().songs_for("sad")
    curation.add_tag([song], "rainy-day")
    assert song.tags.filter(name="rainy-day").exists()
    assert curation.remove_tag([song], "rainy-day") == 1
    assert not song.tags.filter(name="rainy-day").exists()


# -- the admin ------------------------------------------------------------------------------------

def test_the_curator_group_has_no_user_rights():
    names = set(curation.curator_group().permissions.values_list("codename", flat=True))
    assert {"change_song", "view_song", "change_tag", "change_emotionlabel", "view_labelchange",
            "view_songreview"} <= names
    assert not {n for n in names if "user" in n or "group" in n or "permission" in n}
    assert "delete_song" not in names


def test_a_curator_edits_songs_but_not_users(client, curator, library):
    client.force_login(curator)
    assert client.get(reverse("admin:recommender_song_changelist")).status_code == 200
    assert client.get(reverse("admin:recommender_songreview_changelist")).status_code == 200
    assert client.get(reverse("admin:recommender_song_change", args=[library["0"].pk])).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_a_non_staff_person_gets_no_admin_at_all(client, owner, library):
    owner.groups.add(curation.curator_group())  # even in the group, without is_staff
    client.force_login(owner)
    for name in ("admin:index", "admin:recommender_song_changelist", "admin:recommender_songreview_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"], name
    response = client.post(reverse("admin:recommender_song_changelist"), {
        "action": "set_emotion", "emotion": "happy", "_selected_action": [library["0"].pk]})
    assert response.status_code == 302
    assert labels_of(library["0"])[0] == "catalogue"


@pytest.mark.parametrize("query, expected", [
    ("confidence=low", {"9", "10"}),
    ("label_source=model", {"6", "7", "8", "9", "10", "11"}),
    ("emotion=angry", {"9", "10", "11"}),
    ("has_lyrics=yes", set()),
    ("tag=rock", {"9", "10", "11"}),
])
def test_the_song_list_filters(client, curator, library, query, expected):
    client.force_login(curator)
    response = client.get(reverse("admin:recommender_song_changelist") + "?" + query)
    assert response.status_code == 200
    shown = {s.external_id for s in response.context["cl"].result_list}
    assert shown == expected


def playlist(user, emotion):
    return {pick["id"] for pick in recommend(user, emotion)}


def test_a_bulk_relabel_in_the_admin_shows_in_the_next_playlist(client, curator, owner, library,
                                                               django_capture_on_commit_callbacks):
    TypicalSong.objects.create(user=owner, emotion="happy", song=library["6"])
    before = playlist(owner, "happy")
    assert before
    chosen = [library["9"].pk, library["10"].pk]
    assert not before & set(chosen)
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:recommender_song_changelist") + "?confidence=low", {
            "action": "set_emotion", "emotion": "happy", "tag": "", "_selected_action": chosen}, follow=True)
    assert response.status_code == 200
    assert "2 song(s) relabelled as Happy" in response.content.decode()
    assert set(chosen) <= playlist(owner, "happy")
    assert not set(chosen) & set(get_index().songs_for("angry"))
    assert LabelChange.objects.filter(song_id__in=chosen, changed_by=curator).count() == 2
    page = client.get(reverse("admin:recommender_song_change", args=[chosen[0]])).content.decode()
    assert "angry 0.20 (model)" in page and "happy 1.00 (admin)" in page  # the history, on the song's page


def test_bulk_actions_approve_remove_restore_and_tag(client, curator, library):
    client.force_login(curator)
    url = reverse("admin:recommender_songreview_changelist")
    ids = [library["10"].pk, library["11"].pk]
    client.post(url, {"action": "approve_model_labels", "_selected_action": ids})
    assert labels_of(library["10"]) == ("admin", {"angry": 1.0})
    url = reverse("admin:recommender_song_changelist")
    client.post(url, {"action": "remove_from_library", "_selected_action": ids})
    assert Song.objects.filter(pk__in=ids, is_active=False).count() == 2
    client.post(url, {"action": "restore_to_library", "_selected_action": ids})
    assert Song.objects.filter(pk__in=ids, is_active=True).count() == 2
    client.post(url, {"action": "add_tag", "tag": "Road-Trip", "_selected_action": ids})
    assert Tag.objects.get(name="road-trip").songs.count() == 2
    client.post(url, {"action": "remove_tag", "tag": "road-trip", "_selected_action": ids})
    assert Tag.objects.get(name="road-trip").songs.count() == 0


def test_editing_labels_on_the_song_page_keeps_history(client, curator, library):
    song = library["0"]
    label = EmotionLabel.objects.get(song=song)
    client.force_login(curator)
    url = reverse("admin:recommender_song_change", args=[song.pk])
    data = {"source": song.source, "external_id": song.external_id, "title": song.title, "artist": song.artist,
            "url": song.url, "embed_url": "", "audio_url": "", "popularity": "", "duration": "", "lyrics": "",
            "tags": list(song.tags.values_list("pk", flat=True)), "is_active": "on",
            "labels-TOTAL_FORMS": "2", "labels-INITIAL_FORMS": "1", "labels-MIN_NUM_FORMS": "0",
            "labels-MAX_NUM_FORMS": "1000", "labels-0-id": label.pk, "labels-0-song": song.pk,
            "labels-0-emotion": "sad", "labels-0-source": "catalogue", "labels-0-confidence": "0.9",
            "labels-1-song": song.pk, "labels-1-emotion": "neutral", "labels-1-source": "admin",
            "labels-1-confidence": "1",
            "label_changes-TOTAL_FORMS": "0", "label_changes-INITIAL_FORMS": "0",
            "label_changes-MIN_NUM_FORMS": "0", "label_changes-MAX_NUM_FORMS": "1000"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert labels_of(song)[0] == "admin"
    change = LabelChange.objects.get(song=song)
    assert change.old == "sad 0.90 (catalogue)" and change.via == "admin form"


# -- Excel ----------------------------------------------------------------------------------------

def read_sheet(path):
    import pandas as pd

    return pd.read_excel(path, dtype=str, keep_default_na=False)


def snapshot():
    return (sorted(Song.objects.values_list("id", "title", "artist", "is_active")),
            sorted(EmotionLabel.objects.values_list("song_id", "emotion", "source", "confidence")),
            sorted(Song.tags.through.objects.values_list("song_id", "tag_id")),
            LabelChange.objects.count())


def test_the_excel_round_trip_changes_nothing(tmp_path, catalogue):
    curation.set_emotion(Song.objects.order_by("id")[:2], "fear")  # some admin labels, too
    path = tmp_path / "library.xlsx"
    call_command("export_library", str(path), stdout=io.StringIO())
    sheet = read_sheet(path)
    assert list(sheet.columns) == spreadsheet.COLUMNS
    assert len(sheet) == catalogue
    before = snapshot()
    out = io.StringIO()
    call_command("import_library", str(path), stdout=out)
    assert f"{catalogue} unchanged" in out.getvalue()
    assert snapshot() == before


def test_an_edited_emotion_becomes_an_admin_label_with_history(tmp_path, library, curator):
    path = tmp_path / "library.xlsx"
    spreadsheet.export_library(path)
    sheet = read_sheet(path)
    row = sheet.index[sheet["external_id"] == "3"][0]
    sheet.loc[row, "emotion"] = "happy, neutral"
    sheet.loc[row, "tags"] = "calm, piano, sunday"
    sheet.to_excel(path, index=False)
    out = io.StringIO()
    call_command("import_library", str(path), "--user", "cora", stdout=out)
    assert "1 relabelled" in out.getvalue() and "1 retagged" in out.getvalue()
    song = library["3"]
    assert labels_of(song) == ("admin", {"happy": 1.0, "neutral": 1.0})
    assert set(song.tags.values_list("name", flat=True)) == {"calm", "piano", "sunday"}
    change = LabelChange.objects.get(song=song)
    assert (change.changed_by, change.old, change.via) == (curator, "sad 0.90 (catalogue)", "excel")
    # Its own export, imported again, changes nothing more.
    spreadsheet.export_library(path)
    before = snapshot()
    assert spreadsheet.import_library(path).unchanged == len(library)
    assert snapshot() == before


def test_a_file_with_bad_rows_is_reported_and_nothing_is_written(tmp_path, library):
    path = tmp_path / "library.xlsx"
    spreadsheet.export_library(path)
    sheet = read_sheet(path)
    sheet.loc[0, "emotion"] = "happy"  # a good edit: must not be written either
    sheet.loc[1, "emotion"] = "joyful"
    sheet.loc[2, "title"] = ""
    sheet.loc[3, "id"] = "99999"
    sheet.loc[4, "confidence"] = "1.7"
    sheet.loc[5] = sheet.loc[6]
    sheet.loc[7, "source"] = "spotify"
    sheet.to_excel(path, index=False)
    before = snapshot()
    with pytest.raises(spreadsheet.LibraryImportError) as caught:
        spreadsheet.import_library(path)
    rows = dict(caught.value.errors)
    assert set(rows) == {3, 4, 5, 6, 8, 9}  # Excel rows: the header is row 1
    assert "unknown emotion 'joyful'" in rows[3]
    assert "missing title" in rows[4]
    assert "no song with id 99999" in rows[5]
    assert "confidence" in rows[6]
    assert "also on row 7" in rows[8]
    assert "not spotify/" in rows[9]
    err = io.StringIO()
    with pytest.raises(CommandError, match="6 bad row"):
        call_command("import_library", str(path), stderr=err)
    assert "row 3: unknown emotion 'joyful'" in err.getvalue()
    assert snapshot() == before


def test_excel_export_and_import_in_the_admin(client, curator, library, tmp_path):
    client.force_login(curator)
    url = reverse("admin:recommender_song_changelist")
    response = client.post(url, {"action": "export_excel", "_selected_action": [s.pk for s in library.values()]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    path = tmp_path / "from-admin.xlsx"
    path.write_bytes(response.content)
    sheet = read_sheet(path)
    assert len(sheet) == len(library)
    sheet.loc[sheet["external_id"] == "4", "emotion"] = "surprise"
    sheet.to_excel(path, index=False)
    import_url = reverse("admin:recommender_song_import_excel")
    assert client.get(import_url).status_code == 200
    with open(path, "rb") as upload:
        response = client.post(import_url, {"file": upload})
    assert response.status_code == 302
    assert labels_of(library["4"]) == ("admin", {"surprise": 1.0})
    sheet.loc[0, "emotion"] = "joyful"
    sheet.to_excel(path, index=False)
    with open(path, "rb") as upload:
        response = client.post(import_url, {"file": upload})
    assert response.status_code == 200
    assert "row 2: unknown emotion" in response.content.decode()


def test_the_review_queue_page_takes_a_threshold(client, curator, library):
    client.force_login(curator)
    url = reverse("admin:recommender_songreview_changelist")
    response = client.get(url)
    assert [s.external_id for s in response.context["cl"].result_list] == ["9", "10", "11"]
    assert "Angry 0.20 (model)" in response.content.decode()
    response = client.get(url + "?threshold=0.3")
    assert response.status_code == 200
    assert [s.external_id for s in response.context["cl"].result_list] == ["9"]
