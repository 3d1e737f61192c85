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
    assert "2 songs with lyrics: 2 labelled" in output
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


def test_it_replaces_the_previous_model_labels_and_is_idempotent(settings):
    settings.MIEN_STORE_LYRICS = True  # kept, so the second run sees them again
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

    crawled = {"source": "netease", "external_id": "9001", "title": "晴天", "artist": "某歌手", "tags": ["pop"],
               "lyrics": HAPPY_ZH}
    ingest(crawled)  # the crawler's one seam: the lyrics are labelled on the way in
    song = Song.objects.get(source="netease", external_id="9001")
    assert labels(song) == [("happy", "model")]
    assert song.pk in LibraryIndex.build(0).songs_for("happy")

    EmotionLabel.objects.create(song=song, emotion="sad", source="admin", confidence=1.0, labelled_by=owner)
    before = list(song.labels.order_by("source").values_list("pk", "emotion", "source", "labelled_at"))
    for n in range(2):  # crawled again with new lyrics, relabelled: the curator's label stands
        ingest({**crawled, "lyrics": HAPPY_ZH + "\n好开心" * (n + 1)})
        run("label_songs")
        index = LibraryIndex.build(0)
        assert song.pk in index.songs_for("sad")
        assert song.pk not in index.songs_for("happy")
        # Not a label written or rewritten: the old model label lies under the admin's, outranked.
        assert list(song.labels.order_by("source").values_list("pk", "emotion", "source", "labelled_at")) == before
        song.refresh_from_db()
        assert song.lyrics.endswith("好开心")  # a curated song keeps its lyrics: training text


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


# -- lyrics through the seam: features, labels, and lyrics kept only while needed -----------------

def ingest_lyrics(external_id, lyrics, **fields):
    from recommender.library import ingest

    report = ingest({"source": "netease", "external_id": external_id, "title": f"song {external_id}",
                     "artist": "someone", "lyrics": lyrics, **fields})
    return report, Song.objects.get(source="netease", external_id=external_id)


def test_ingested_lyrics_leave_features_and_a_label_and_are_dropped_when_confident(settings):
    from recommender.models import REVIEW_THRESHOLD

    settings.MIEN_STORE_LYRICS = False
    report, song = ingest_lyrics("1", HAPPY_ZH)
    label = song.labels.get()
    assert (label.emotion, label.source, report.lyrics_labelled) == ("happy", "model", 1)
    assert label.probabilities["happy"] == pytest.approx(label.confidence, abs=1e-4)
    features = song.lyrics_features
    assert features["intensities"]["happy"] > 0 and features["polarity"] > 0 and features["degrees"] >= 1
    assert song.lyrics_checked_at is not None and len(song.lyrics_sha1) == 40
    assert label.confidence >= REVIEW_THRESHOLD  # this text is unambiguous ...
    assert song.lyrics == ""  # ... so its lyrics have served their purpose

    first = (label.pk, label.labelled_at)
    report, song = ingest_lyrics("1", HAPPY_ZH)  # crawled again: same lyrics, nothing redone
    assert report.lyrics_labelled == 0 and (song.labels.get().pk, song.labels.get().labelled_at) == first


def test_lyrics_waiting_for_review_or_stored_by_setting_are_kept(settings, monkeypatch):
    from recommender import curation, labelling

    settings.MIEN_STORE_LYRICS = False
    monkeypatch.setattr(labelling, "REVIEW_THRESHOLD", 1.01)  # every label goes to the review queue
    _report, queued = ingest_lyrics("1", SAD_EN)
    assert queued.lyrics == SAD_EN.strip() and queued.labels.get().source == "model"
    assert curation.review_queue(threshold=1.01).filter(pk=queued.pk).exists()

    monkeypatch.setattr(labelling, "REVIEW_THRESHOLD", 0.0)
    settings.MIEN_STORE_LYRICS = True
    _report, stored = ingest_lyrics("2", SAD_EN)
    assert stored.lyrics == SAD_EN.strip()


def test_without_a_classifier_lyrics_are_kept_for_later_and_nothing_is_lost(settings, monkeypatch):
    from recommender.lyrics import classifier

    settings.MIEN_STORE_LYRICS = False

    def broken(path=None):
        raise FileNotFoundError("song classifier missing")

    monkeypatch.setattr(classifier, "load_model", broken)
    report, song = ingest_lyrics("1", SAD_EN, tags=["pop"])
    assert report.created == 1 and report.lyrics_labelled == 0
    assert song.lyrics == SAD_EN.strip() and not song.labels.exists()
    assert song.lyrics_features["intensities"]["sad"] > 0  # the lexicon needs no model

    monkeypatch.undo()
    settings.MIEN_STORE_LYRICS = False
    assert "1 labelled" in run("label_songs")  # the classifier is back: the kept lyrics get their label
    song.refresh_from_db()
    assert labels(song) == [("sad", "model")]


def test_the_lyrics_spider_asks_only_for_songs_never_looked_up_and_stale_misses(settings):
    from datetime import timedelta

    from django.utils import timezone

    from recommender.crawling import songs_missing_lyrics
    from recommender.library import ingest

    settings.MIEN_LYRICS_RECHECK_DAYS = 30
    base = {"source": "netease", "artist": "someone"}
    ingest({**base, "external_id": "new", "title": "never looked up"})
    ingest({**base, "external_id": "miss", "title": "looked up, nothing found", "lyrics_checked": True})
    ingest({**base, "external_id": "old", "title": "nothing found long ago", "lyrics_checked": True})
    Song.objects.filter(external_id="old").update(lyrics_checked_at=timezone.now() - timedelta(days=31))
    ingest_lyrics("done", SAD_EN)  # labelled, lyrics dropped or not: done either way
    assert {row["external_id"] for row in songs_missing_lyrics(10)} == {"new", "old"}
