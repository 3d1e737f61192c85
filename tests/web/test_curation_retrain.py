"""Retraining the song classifier from curated labels (asked for in the admin, run as a task), the
evidence the review queue shows, and the curator group surviving a flush.

Training runs for real on a miniature text emotion folder (tests/lyrics/conftest.py) in a few
seconds; the "shipped" model file is a temporary path, so the repository's model is never touched.
"""

import hashlib
import io
import json
import shutil
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from recommender import curation, retraining
from recommender.library import ingest_many
from recommender.lyrics import EMOTIONS, classifier
from recommender.lyrics.evidence import lyrics_evidence
from recommender.models import EMOTION_LABELS, ClassifierRun, EmotionLabel, Song
from tests.lyrics.conftest import write_tiny_goemotions

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
SAD_EN = "I cry every night since you left me\nTears on my pillow, my heart is broken\nSo lonely and sad"
REPOSITORY_MODEL = classifier.MODEL_PATH


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in-process, as tests/settings.py has them without REDIS_URL (and whatever else ran)."""
    from webapp.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """The path the shipped model lives at, for this test: empty at first."""
    path = tmp_path / "models" / "song_classifier.joblib"
    monkeypatch.setattr(classifier, "MODEL_PATH", path)
    monkeypatch.setattr(classifier, "_model", None)
    return path


@pytest.fixture
def text_data(tmp_path, monkeypatch):
    """A miniature GoEmotions folder as the default text emotion data (English only)."""
    root = tmp_path / "text_emotion"
    write_tiny_goemotions(root / "goemotions")
    monkeypatch.setenv("MIEN_TEXT_EMOTION_DIR", str(root))
    return root


@pytest.fixture
def curator(django_user_model):
    user = django_user_model.objects.create_user("cora", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user


@pytest.fixture
def curated_song(curator):
    """One song with lyrics and an admin label: training data for the retraining."""
    song = Song.objects.create(source="manual", external_id="curated", title="Sunny", artist="Someone",
                               lyrics="so glad and joyful, the sun is out")
    curation.set_emotion([song], "happy", user=curator)
    return song


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card(path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def retrain(django_capture_on_commit_callbacks, user=None, **options) -> ClassifierRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = retraining.request_retrain(user, **options)
    run.refresh_from_db()
    return run


# -- the retraining -------------------------------------------------------------------------------

def test_a_curator_retrains_from_curated_labels_in_the_admin(client, curator, curated_song, shipped, text_data,
                                                             django_capture_on_commit_callbacks):
    Song.objects.create(source="manual", external_id="uncurated", title="Storm", artist="Someone",
                        lyrics="so furious")  # no admin label: not training data
    client.force_login(curator)
    songs_page = client.get(reverse("admin:recommender_song_changelist")).content.decode()
    assert reverse("admin:recommender_classifierrun_retrain") in songs_page
    assert "has not been retrained from curated labels yet" in songs_page
    assert not shipped.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:recommender_classifierrun_retrain"), {"langs": ["en"]})
    assert response.status_code == 302
    run = ClassifierRun.objects.get()
    assert (run.status, run.shipped, run.requested_by) == ("finished", True, curator), run.message
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    assert run.admin_examples == 1  # the curated song's lyrics, and only those
    shipped_card = card(shipped)
    assert shipped_card["command"].startswith("python manage.py train_song_classifier")
    assert shipped_card["languages"]["en"]["admin_examples"] == 1
    name = shipped_card["languages"]["en"]["shipped"]
    assert run.scores["en"]["macro_f1"] == shipped_card["languages"]["en"][name]["test"]["macro_f1"]
    assert run.scores["en"]["test_n"] == shipped_card["languages"]["en"][name]["test"]["n"] > 0
    assert run.previous_scores == {}  # nothing was shipped before
    assert "admin-labelled songs with lyrics: 1" in run.log
    assert not retraining.candidate_path(shipped).exists()

    # The last run is shown on the song list and on the runs' page.
    songs_page = client.get(reverse("admin:recommender_song_changelist")).content.decode()
    assert f"#{run.pk}</a> finished" in songs_page
    assert f"en macro-F1 {run.scores['en']['macro_f1']:.3f}" in songs_page
    runs_page = client.get(reverse("admin:recommender_classifierrun_changelist"))
    assert runs_page.status_code == 200 and [r.pk for r in runs_page.context["cl"].result_list] == [run.pk]
    run_page = client.get(reverse("admin:recommender_classifierrun_change", args=[run.pk]))
    assert run_page.status_code == 200 and "Shipped to" in run_page.content.decode()
    assert client.post(reverse("admin:recommender_classifierrun_delete", args=[run.pk])).status_code == 403
    # The shipped model is the one the library is labelled with next.
    out = io.StringIO()
    call_command("label_songs", stdout=out)
    assert "1 songs with lyrics: 1 labelled" in out.getvalue()


def test_a_worse_model_is_not_shipped_unless_asked_to(curator, curated_song, shipped, text_data,
                                                      django_capture_on_commit_callbacks):
    first = retrain(django_capture_on_commit_callbacks, curator, langs=["en"])
    assert first.shipped, first.message
    before = digest(shipped)

    quick = retrain(django_capture_on_commit_callbacks, curator, langs=["en"], max_train=10)
    assert quick.scores["en"]["macro_f1"] < first.scores["en"]["macro_f1"], "the quick run should be worse"
    assert quick.previous_scores["en"]["macro_f1"] == first.scores["en"]["macro_f1"]
    assert (quick.status, quick.shipped) == ("finished", False)
    assert "below the shipped model's" in quick.message
    assert digest(shipped) == before  # the shipped model is untouched ...
    candidate = retraining.candidate_path(shipped)
    assert card(candidate)["max_train"] == 10  # ... and the candidate is kept beside it for a look

    forced = retrain(django_capture_on_commit_callbacks, curator, langs=["en"], max_train=10, force=True)
    assert forced.shipped and "although" in forced.message
    assert digest(shipped) != before
    assert card(shipped)["max_train"] == 10
    assert not candidate.exists()


def test_a_model_tested_on_other_data_is_not_replaced_silently(curator, curated_song, shipped, text_data,
                                                                django_capture_on_commit_callbacks):
    shipped.parent.mkdir(parents=True)
    for suffix in (".joblib", ".json"):  # the repository's model, trained on the full data
        shutil.copyfile(REPOSITORY_MODEL.with_suffix(suffix), shipped.with_suffix(suffix))
    before = digest(shipped)
    run = retrain(django_capture_on_commit_callbacks, curator, langs=["en"])
    assert (run.status, run.shipped) == ("finished", False)
    assert "tested on other data" in run.message
    assert run.previous_scores["en"]["test_n"] != run.scores["en"]["test_n"]
    assert digest(shipped) == before
    # A retraining of English only keeps the shipped Chinese model in the candidate.
    assert set(card(retraining.candidate_path(shipped))["languages"]) == {"en", "zh"}


def test_a_failed_run_records_the_error_and_keeps_the_shipped_model(curator, shipped, tmp_path,
                                                                    django_capture_on_commit_callbacks):
    shipped.parent.mkdir(parents=True)
    shutil.copyfile(REPOSITORY_MODEL, shipped)
    before = digest(shipped)
    run = retrain(django_capture_on_commit_callbacks, curator, langs=["en"], data_dir=tmp_path / "nowhere")
    assert (run.status, run.shipped) == ("failed", False)
    assert "no text emotion data" in run.message
    assert run.finished_at is not None
    assert digest(shipped) == before
    assert not retraining.candidate_path(shipped).exists()


def test_two_retrainings_never_overlap(client, curator, shipped, django_capture_on_commit_callbacks):
    running = ClassifierRun.objects.create(model_path=str(shipped), status="running", started_at=timezone.now())
    with pytest.raises(retraining.RetrainAlreadyRunning, match=f"#{running.pk}"):
        retraining.request_retrain(curator)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses a second one, too
        ClassifierRun.objects.create(model_path=str(shipped), status="queued")
    client.force_login(curator)
    response = client.post(reverse("admin:recommender_classifierrun_retrain"), {"langs": ["en", "zh"]},
                           follow=True)
    assert "already running" in response.content.decode()
    assert ClassifierRun.objects.count() == 1

    # A run left behind by a dead worker stops blocking once it is older than the time limit.
    ClassifierRun.objects.filter(pk=running.pk).update(
        requested_at=timezone.now() - timedelta(seconds=retraining.time_limit() + 3600))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        run = retraining.request_retrain(curator)
    assert run.status == "queued" and len(queued) == 1
    running.refresh_from_db()
    assert running.status == "abandoned" and "Abandoned" in running.message


def test_the_task_only_runs_a_queued_run(shipped):
    run = ClassifierRun.objects.create(model_path=str(shipped), status="finished", message="done")
    assert retraining.retrain_song_classifier.delay(run.pk).get() == "skipped"
    run.refresh_from_db()
    assert (run.status, run.message, run.started_at) == ("finished", "done", None)


@pytest.mark.parametrize("options, error", [
    ({"langs": []}, "Choose languages"),
    ({"langs": ["fr"]}, "Choose languages"),
    ({"max_train": 3}, "at least 10"),
])
def test_bad_options_are_refused_plainly(shipped, options, error):
    with pytest.raises(ValueError, match=error):
        retraining.request_retrain(None, **options)
    assert not ClassifierRun.objects.exists()


def test_who_may_ask_for_a_retraining(client, django_user_model, curator, shipped):
    url = reverse("admin:recommender_classifierrun_retrain")
    client.force_login(curator)
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:recommender_classifierrun_changelist")).status_code == 200

    staff = django_user_model.objects.create_user("stan", password=PASSWORD, is_staff=True)  # no group
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"langs": ["en"]}).status_code == 403

    outsider = django_user_model.objects.create_user("olly", password=PASSWORD)
    outsider.groups.add(Group.objects.get(name="curator"))  # in the group, but not staff
    client.force_login(outsider)
    response = client.post(url, {"langs": ["en"]})
    assert response.status_code == 302 and "/login/" in response["Location"]

    boss = django_user_model.objects.create_superuser("boss", password=PASSWORD)
    client.force_login(boss)
    assert client.get(url).status_code == 200
    assert not ClassifierRun.objects.exists()
    response = client.post(url, {"langs": ["en"], "max_train": "3"})
    assert response.status_code == 200 and "greater than or equal to 10" in response.content.decode()
    assert not ClassifierRun.objects.exists()


# -- the review queue's evidence ------------------------------------------------------------------

def test_labelling_keeps_the_probabilities_the_review_queue_shows(client, curator, settings):
    settings.MIEN_STORE_LYRICS = True  # the second label_songs below needs the lyrics again
    song = Song.objects.create(source="manual", external_id="sad", title="Pillow", artist="Someone", lyrics=SAD_EN)
    ingest_many([{"source": "deezer", "external_id": "1", "title": "Old", "artist": "Band",
                  "emotions": {"angry": 0.3}}], label_source="model")  # a model label without them
    call_command("label_songs", stdout=io.StringIO())
    label = EmotionLabel.objects.get(song=song, source="model")
    probabilities = label.probabilities
    assert set(probabilities) <= set(EMOTIONS) and len(probabilities) >= 2
    assert abs(sum(probabilities.values()) - 1) < 1e-3
    assert max(probabilities, key=probabilities.get) == label.emotion
    assert probabilities[label.emotion] == pytest.approx(label.confidence, abs=1e-4)

    client.force_login(curator)
    response = client.get(reverse("admin:recommender_songreview_changelist") + "?threshold=1")
    rows = {s.external_id: s for s in response.context["cl"].result_list}
    assert set(rows) == {"sad", "1"}
    page = response.content.decode()
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])
    # every emotion, most probable first, named in the curator's language
    assert ", ".join(f"{EMOTION_LABELS[e]} {p:.2f}" for e, p in ranked) in page
    evidence = lyrics_evidence(SAD_EN)
    assert next(iter(evidence["intensities"])) == "sad" and evidence["polarity"] < 0 and evidence["hits"] >= 2
    assert f"Sad {evidence['intensities']['sad']:.2f}" in page
    assert f"polarity {evidence['polarity']:+.2f}" in page
    assert f"{evidence['hits']} emotion words" in page
    assert "not kept" in page and "no lyrics" in page  # the old model label, the song without lyrics

    # Labels written before probabilities were kept get them on the next run, unchanged otherwise.
    EmotionLabel.objects.filter(pk=label.pk).update(probabilities={})
    out = io.StringIO()
    call_command("label_songs", stdout=out)
    assert "0 labelled, 1 unchanged (1 given their probabilities)" in out.getvalue()
    refreshed = EmotionLabel.objects.get(pk=label.pk)
    assert refreshed.probabilities == probabilities and refreshed.labelled_at == label.labelled_at


def test_lyrics_evidence_counts_negations_and_degree_words():
    plain, turned = lyrics_evidence("I am happy"), lyrics_evidence("I am not very happy")
    assert plain["polarity"] > 0 and plain["negations"] == 0
    assert turned["negations"] == 1 and turned["degrees"] == 1 and turned["polarity"] < 0
    assert lyrics_evidence("  \n") is None


def test_probabilities_many_agrees_with_classify_many():
    texts = [SAD_EN, "今天阳光灿烂，我非常开心"]
    model = classifier.load_model(REPOSITORY_MODEL)
    for (emotion, probability), proba in zip(model.classify_many(texts), model.probabilities_many(texts)):
        assert max(proba, key=proba.get) == emotion and proba[emotion] == probability
        assert list(proba) == [e for e in EMOTIONS if e in proba]


# -- the curator group ----------------------------------------------------------------------------

def test_migrate_leaves_a_complete_curator_group():
    group = Group.objects.get(name="curator")  # nobody called curation.curator_group()
    names = set(group.permissions.values_list("codename", flat=True))
    assert {"add_classifierrun", "view_classifierrun", "change_song", "view_labelchange"} <= names
    assert not {"change_classifierrun", "delete_classifierrun", "delete_song", "change_labelchange"} & names
    assert not {n for n in names if "user" in n or "group" in n or "permission" in n}
    count = len(names)
    curation.curator_group()  # idempotent
    assert Group.objects.filter(name="curator").count() == 1 and group.permissions.count() == count


@pytest.mark.django_db(transaction=True)
def test_the_curator_group_is_back_after_a_flush():
    Group.objects.filter(name="curator").delete()
    call_command("flush", interactive=False, verbosity=0)
    group = Group.objects.get(name="curator")
    assert group.permissions.filter(codename="add_classifierrun").exists()
    assert group.permissions.filter(codename="change_song").exists()
