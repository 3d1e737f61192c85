"""The curators' review queue on the full bundled catalogue (9,282 songs) in PostgreSQL, with people's
signals to count: 2,000 stored playlists of 20 songs, 50 people's hides, 300 corrected playlists.

Times the queue's first page and the admin index (which counts the queue per emotion) against the
plain song list page, the baseline measured in the same process; reports the queries per page for a
page of 50 rows and a page of 1 row (the same number: nothing is fetched per row).
"""

import os
import random
import statistics
import time

from bench.common import fresh_database

BENCH_DB = os.environ.get("MIEN_BENCH_REVIEW_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mien_bench_review")
REPEATS = 7


def _setup():
    fresh_database(BENCH_DB)
    from django.core.management import call_command

    call_command("import_catalogue", stdout=open(os.devnull, "w"))


def _people_signals(rng):
    from django.contrib.auth import get_user_model

    from recommender.models import HiddenSong, Recognition, RecognitionCorrection, Song

    ids = list(Song.objects.values_list("id", flat=True))
    people = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"listener{i}") for i in range(50)])
    recognitions = Recognition.objects.bulk_create([
        Recognition(user=rng.choice(people), status="done", emotion="sad",
                    songs=[{"id": s, "score": 0.5, "why": []} for s in rng.sample(ids, 20)]) for _ in range(2000)])
    through = Recognition.playlist_songs.through
    through.objects.bulk_create([through(recognition_id=r.id, song_id=p["id"]) for r in recognitions for p in r.songs],
                                batch_size=5000)
    HiddenSong.objects.bulk_create([HiddenSong(user=person, song_id=s) for person in people for s in rng.sample(ids, 6)],
                                   ignore_conflicts=True)
    corrections = RecognitionCorrection.objects.bulk_create([
        RecognitionCorrection(recognition=r, detected_emotion="sad", emotion="happy") for r in recognitions[:300]])
    corrected = RecognitionCorrection.playlist_songs.through
    corrected.objects.bulk_create([corrected(recognitioncorrection_id=c.id, song_id=p["id"])
                                   for c, r in zip(corrections, recognitions) for p in r.songs], batch_size=5000)


def _time(client, url) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(REPEATS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return statistics.median(times) * 1000, len(queries)


def run() -> dict:
    _setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from recommender import curation, review
    from recommender.models import Song

    _people_signals(random.Random(5))
    curator = get_user_model().objects.create_user("cora", is_staff=True)
    curator.groups.add(curation.curator_group())
    client = Client()
    client.force_login(curator)
    waiting = review.review_queue().count()
    song_list_ms, song_list_queries = _time(client, "/admin/recommender/song/")
    queue_ms, queue_queries = _time(client, "/admin/recommender/songreview/")
    one_row_ms, one_row_queries = _time(client, "/admin/recommender/songreview/?q=假行僧")
    index_ms, _index_queries = _time(client, "/admin/")
    return {
        "songs": Song.objects.count(), "waiting": waiting, "repeats (median of)": REPEATS,
        "song list page (baseline), ms": round(song_list_ms), "queue page (50 rows), ms": round(queue_ms),
        "queue page / song list page": round(queue_ms / song_list_ms, 2),
        "queue page (1 row), ms": round(one_row_ms), "admin index with per-emotion counts, ms": round(index_ms),
        "queries: song list page": song_list_queries, "queries: queue page, 50 rows": queue_queries,
        "queries: queue page, 1 row": one_row_queries,
    }


if __name__ == "__main__":
    print(run())
