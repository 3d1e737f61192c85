"""label_songs and train_song_classifier against the database."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommender.models import EmotionLabel, Song

pytestmark = pytest.mark.django_db

HAPPY_ZH = "今天阳光灿烂，我非常开心\n和你在一起好幸福，哈哈哈\n快乐的歌唱"
SAD_EN = "I cry every night since you left me\nTears on my pillow, my heart is broken\nSo lonely and sad"


def run(name, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def make_song(external_id, lyrics="", **fields):
    return Song.objects.create(source="manual", external_id=external_id, title=f"song {external_id}",
                               artist="someone", lyrics=lyrics, **fields)


def labels(song, source=None):
    rows = song.labels.all() if source is None else song.labels.filter(source=source)
    return sorted(rows.values_list("emotion", "source"))


def test_it_labels_songs_with_lyrics_and_leaves_songs_without_lyrics_alone(catalogue):
    zh, en = make_song("zh", HAPPY_ZH), make_song("en", SAD_EN)
    untouched = Song.objects.exclude(pk__in=[zh.pk, en.pk]).filter(labels__source="catalogue").first()
    before = labels(untouched)
    output = run("label_songs")
    assert "2 songs with lyrics and no admin label: 2 labelled" in output
    assert labels(zh, "model") == [("happy", "model")]
    assert labels(en, "model") == [("sad", "model")]
    assert 0 < zh.labels.get(source="model").confidence <= 1
    assert labels(untouched) == before  # the catalogue's songs have no lyrics: their labels stay
    assert not EmotionLabel.objects.filter(source="model").exclude(song__in=[zh, en]).exists()


def test_it_never_touches_admin_labels(owner):
    song = make_song("s1", HAPPY_ZH)
    EmotionLabel.objects.create(song=song, emotion="sad", source="admin", confidence=1.0, labelled_by=owner)
    EmotionLabel.objects.create(song=song, emotion="neutral", source="catalogue", confidence=0.5)
    run("label_songs")
    assert labels(song) == [("neutral", "catalogue"), ("sad", "admin")]
    admin = song.labels.get(source="admin")
    assert (admin.emotion, admin.confidence, admin.labelled_by) == ("sad", 1.0, owner)


def test_it_replaces_the_previous_model_labels_and_is_idempotent():
    song = make_song("s1", SAD_EN)
    EmotionLabel.objects.create(song=song, emotion="happy", source="model", confidence=0.9)
    EmotionLabel.objects.create(song=song, emotion="fear", source="model", confidence=0.3)
    run("label_songs")
    first = list(song.labels.values_list("emotion", "source", "confidence", "labelled_at"))
    assert [(e, s) for e, s, _c, _t in first] == [("sad", "model")]
    output = run("label_songs")
    assert "0 labelled, 1 unchanged" in output
    assert list(song.labels.values_list("emotion", "source", "confidence", "labelled_at")) == first


def test_it_skips_inactive_and_blank_songs():
    inactive = make_song("off", HAPPY_ZH, is_active=False)
    blank = make_song("blank", "  \n ")
    output = run("label_songs")
    assert "1 blank" in output
    assert not EmotionLabel.objects.filter(song__in=[inactive, blank]).exists()


def test_a_dry_run_writes_nothing():
    make_song("s1", HAPPY_ZH)
    assert "dry run, nothing written" in run("label_songs", "--dry-run")
    assert not EmotionLabel.objects.exists()


def test_a_crawled_song_gets_a_model_label_that_an_admin_label_then_overrides_for_good(owner):
    from recommender.library import ingest
    from recommender.playlists import LibraryIndex

    ingest({"source": "netease", "external_id": "9001", "title": "晴天", "artist": "某歌手", "tags": ["pop"],
            "lyrics": HAPPY_ZH})
    song = Song.objects.get(source="netease", external_id="9001")
    if not song.lyrics:  # the crawler's lyrics pipeline stores them when library.ingest does not
        Song.objects.filter(pk=song.pk).update(lyrics=HAPPY_ZH)
    run("label_songs")
    assert labels(song) == [("happy", "model")]
    assert song.pk in LibraryIndex.build(0).songs_for("happy")

    EmotionLabel.objects.create(song=song, emotion="sad", source="admin", confidence=1.0, labelled_by=owner)
    for _ in range(2):  # relabelling, even after the lyrics change, never overrides the curator
        Song.objects.filter(pk=song.pk).update(lyrics=HAPPY_ZH + "\n好开心")
        run("label_songs")
        index = LibraryIndex.build(0)
        assert song.pk in index.songs_for("sad")
        assert song.pk not in index.songs_for("happy")
        assert song.labels.get(source="admin").emotion == "sad"


def test_train_song_classifier_uses_admin_labelled_lyrics(tiny_data, tmp_path, owner):
    import json

    song = make_song("curated", "so glad and joyful, the sun is out")
    EmotionLabel.objects.create(song=song, emotion="happy", source="admin", confidence=1.0, labelled_by=owner)
    make_song("uncurated", "so furious")  # no admin label: not training data
    output_file = tmp_path / "model.joblib"
    output = run("train_song_classifier", "--data", str(tiny_data), "--langs", "en", "--C", "1.0",
                 "--output", str(output_file))
    assert "admin-labelled songs with lyrics: 1" in output
    card = json.loads(output_file.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["languages"]["en"]["admin_examples"] == 1
    assert card["command"].startswith("python manage.py train_song_classifier")
    # The new model labels the library.
    assert "labelled" in run("label_songs", "--model", str(output_file))


def test_the_commands_report_bad_input_plainly(tmp_path):
    with pytest.raises(CommandError, match="model file not found"):
        run("label_songs", "--model", str(tmp_path / "missing.joblib"))
    with pytest.raises(CommandError, match="no text emotion data"):
        run("train_song_classifier", "--data", str(tmp_path / "nowhere"), "--langs", "en",
            "--output", str(tmp_path / "m.joblib"))
