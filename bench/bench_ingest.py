"""Bulk ingest through the library seam into PostgreSQL: songs per second, new and again (upsert)."""

import os
import time

from bench.common import fresh_database

BENCH_DB = os.environ.get("MIEN_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mien_bench")


def _setup():
    fresh_database(BENCH_DB)


def items(n: int, seed: int = 3) -> list[dict]:
    import random

    rng = random.Random(seed)
    tags = [f"tag-{i}" for i in range(200)]
    emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    return [{"source": "netease", "external_id": str(10_000_000 + i), "title": f"Song {i}", "artist": f"Artist {i % 997}",
             "url": f"https://music.163.com/song?id={10_000_000 + i}", "popularity": rng.randint(0, 100),
             "tags": rng.sample(tags, rng.randint(3, 8)), "emotions": {rng.choice(emotions): round(rng.uniform(0.3, 1), 2)}}
            for i in range(n)]


def run(n: int = 10_000, batch: int = 2000) -> dict:
    _setup()
    from recommender.library import ingest_many

    songs = items(n)
    result = {"database": "PostgreSQL", "songs": n, "batch": batch}
    for label in ("new_songs_per_s", "same_songs_again_per_s"):
        started = time.perf_counter()
        for i in range(0, n, batch):
            ingest_many(songs[i:i + batch])
        result[label] = round(n / (time.perf_counter() - started))
    return result


if __name__ == "__main__":
    print(run())
