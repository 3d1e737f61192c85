"""Ranking 100,000 songs with ~200 tags: the contract ``recommend`` against the obvious Python loop.

Three ways in, all measured in one process (medians): the obvious loop (the yardstick), ``rank`` and
``recommend`` handed a plain dict of sets (the paper's cosine), and ``recommend`` on a cached
``SongSignals`` (what the product keeps), with the paper's cosine and with the shipped blend.
"""

import math
import time

import numpy as np

from bench.common import median_ms
from recommender.ranking import SongSignals, rank, recommend


def obvious_loop(seeds, candidates, tags, top=20):
    """The obvious Python loop for the paper's cosine: the yardstick here and in
    tests/ranking/test_recommend.py (one copy, so both measure against the same loop)."""
    profile = {}
    for seed in seeds:
        for tag in set(tags[seed]):
            profile[tag] = profile.get(tag, 0) + 1
    norm = math.sqrt(sum(v * v for v in profile.values()))
    scored = []
    for song in candidates:
        song_tags = tags[song]
        dot = sum(profile.get(t, 0) for t in song_tags)
        scored.append((song, dot / (norm * math.sqrt(len(song_tags))) if song_tags else 0.0))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:top]


def run(n_songs: int = 100_000, n_tags: int = 200, n_lists: int = 5_000, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    tags = [f"tag{i}" for i in range(n_tags)]
    # Zipf-like tag popularity and 3-8 tags a song, like the NetEase playlists; 0-3 playlists a song.
    weights = 1 / np.arange(1, n_tags + 1)
    weights /= weights.sum()
    songs = {i: set(rng.choice(tags, size=rng.integers(3, 9), replace=False, p=weights)) for i in range(n_songs)}
    lists = {i: {f"list{j}" for j in rng.integers(0, n_lists, size=rng.integers(0, 4))} for i in range(n_songs)}
    seeds = [0, 1, 2]
    candidates = list(range(3, n_songs))
    profile = {}
    for s in seeds:
        for t in songs[s]:
            profile[t] = profile.get(t, 0) + 1

    started = time.perf_counter()
    signals = SongSignals.from_mappings(songs, lists)
    build_s = time.perf_counter() - started
    loop_ms = median_ms(lambda: obvious_loop(seeds, candidates, songs), repeats=5, warmup=1)
    by_id = {c: songs[c] for c in candidates}
    rank_ms = median_ms(lambda: rank(profile, by_id, top=20), repeats=5, warmup=1)
    plain_ms = median_ms(lambda: recommend(seeds, candidates, songs, top=20), repeats=5, warmup=1)
    cosine_ms = median_ms(lambda: recommend(seeds, candidates, signals, method="cosine", top=20), repeats=20)
    blend_ms = median_ms(lambda: recommend(seeds, candidates, signals, top=20), repeats=20)
    # Same top scores every way (ties may order differently).
    expected = [v for _, v in obvious_loop(seeds, candidates, songs)]
    for got in (recommend(seeds, candidates, songs, top=20), recommend(seeds, candidates, signals, method="cosine", top=20)):
        assert np.allclose([v for _, v in got], expected, atol=1e-9), (got, expected)
    return {"songs": n_songs, "tags": n_tags, "obvious_loop_ms": round(loop_ms, 1),
            "rank_dict_of_sets_ms": round(rank_ms, 1), "recommend_dict_of_sets_ms": round(plain_ms, 1),
            "recommend_vs_loop": round(plain_ms / loop_ms, 2), "signals_build_s": round(build_s, 2),
            "recommend_cached_cosine_ms": round(cosine_ms, 2), "recommend_cached_blend_ms": round(blend_ms, 2),
            "cached_blend_speedup_vs_loop": round(loop_ms / blend_ms, 1)}


if __name__ == "__main__":
    print(run())
