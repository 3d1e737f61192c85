"""Ingest is all or nothing: an error or a crash in the middle of a batch leaves no half songs."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import DatabaseError

from recommender.library import ingest_many, library_version
from recommender.models import EmotionLabel, Song, Tag

# Real commits, so that a rollback is the database's, not the test's.
pytestmark = pytest.mark.django_db(transaction=True)


def item(external_id, **fields):
    return {"source": "netease", "external_id": external_id, "title": f"Song {external_id}", "artist": "Singer",
            **fields}


def library_state():
    """Everything ingest writes: songs and their fields, tags, song-tag links, labels."""
    return {
        "songs": sorted(Song.objects.values_list("source", "external_id", "title", "url")),
        "tags": sorted(Tag.objects.values_list("name", flat=True)),
        "links": sorted(Song.tags.through.objects.values_list("song__external_id", "tag__name")),
        "labels": sorted(EmotionLabel.objects.values_list("song__external_id", "emotion", "source", "confidence")),
    }


def test_an_error_in_the_middle_of_a_batch_writes_nothing_of_it(monkeypatch):
    ingest_many([item("1", title="Old title", url="https://music.163.com/song?id=1", tags=["calm"],
                      emotions={"sad": 0.8})])
    before, version = library_state(), library_version()

    def disk_full(*args, **kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    # The batch's last write fails, after its songs, tags and links are written.
    monkeypatch.setattr(EmotionLabel.objects, "bulk_create", disk_full)
    with pytest.raises(DatabaseError):
        ingest_many([item("1", title="New title", url="https://music.163.com/song?id=111", tags=["rock"],
                          emotions={"happy": 0.9}),
                     item("2", tags=["pop", "dance"], emotions={"happy": 0.7})])

    assert library_state() == before  # no new song, tag or link; the old song's fields and labels kept
    assert library_version() == version  # nobody was told the library changed


def test_a_crash_in_the_middle_of_a_batch_leaves_no_half_songs(tmp_path):
    from tests.integration.workers import database_url

    reached = tmp_path / "reached"
    # A crawl's ingest, SIGKILLed (as the OOM killer or a power cut would) after it wrote its songs
    # and tags inside its transaction and before it could commit.
    code = f"""
import time, django
django.setup()
import recommender.library as library
from recommender.models import Song, Tag
real = library.ensure_tags
def ensure_tags_then_hang(*args, **kwargs):
    ids = real(*args, **kwargs)
    open({str(reached)!r}, "w").write(f"{{Song.objects.count()}} {{Tag.objects.count()}}")
    time.sleep(120)
library.ensure_tags = ensure_tags_then_hang
library.ingest_many([{{"source": "netease", "external_id": str(n), "title": f"Song {{n}}", "artist": "Singer",
                       "tags": ["pop", "tag-" + str(n)], "emotions": {{"happy": 0.9}}}} for n in range(3)])
"""
    env = dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="tests.settings")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not reached.exists() or not reached.read_text():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the ingest never reached its tags"
            time.sleep(0.1)
        assert reached.read_text() == "3 4"  # inside its transaction: 3 songs, 4 tags written
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    assert library_state() == {"songs": [], "tags": [], "links": [], "labels": []}
    # And the next crawl writes them whole (no lock or row was left behind).
    report = ingest_many([item(str(n), tags=["pop", f"tag-{n}"], emotions={"happy": 0.9}) for n in range(3)])
    assert report.created == 3
    assert len(library_state()["links"]) == 6
