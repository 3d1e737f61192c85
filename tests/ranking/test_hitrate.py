"""The offline hit-rate protocol (bench/bench_hitrate.py) on the bundled catalogue."""

import gzip
import json

import numpy as np
import pytest

from bench.bench_hitrate import (K, METHODS, SEEDS, draw_trial, evaluate, expected_hit, load_catalogue,
                                 run)
from recommender.emotion.labels import EMOTIONS

TRIALS = 20


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def result(catalogue):
    return evaluate(trials=TRIALS, seed=7, catalogue=catalogue)


def test_expected_hit_shares_the_places_among_tied_songs():
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    assert expected_hit(scores, 0, k=2) == 1.0
    assert expected_hit(scores, 1, k=2) == pytest.approx(1 / 3)  # one place left for three tied songs
    assert expected_hit(scores, 2, k=4) == 1.0
    assert expected_hit(scores, 4, k=4) == 0.0


def test_a_trial_is_three_typical_songs_and_a_held_out_fourth_sharing_a_genre(catalogue):
    rng = np.random.default_rng(3)
    for emotion in EMOTIONS:
        library = set(catalogue.library(emotion).tolist())
        for _ in range(5):
            genre, seeds, held_out = draw_trial(catalogue, catalogue.library(emotion), rng)
            assert genre in catalogue.genres
            assert len(set(seeds)) == SEEDS and held_out not in seeds
            for song in (*seeds, held_out):
                assert song in library
                assert genre in catalogue.tags[song]


def test_it_reports_every_emotion_and_method(result, catalogue):
    assert result["trials_per_emotion"] == TRIALS and result["k"] == K
    assert set(result["per_emotion"]) == set(EMOTIONS)
    for emotion, scores in result["per_emotion"].items():
        assert set(scores) == set(METHODS)
        assert all(0.0 <= v <= 1.0 for v in scores.values()), scores
        # The three typical songs are not candidates: random picks 10 of the rest.
        size = len(catalogue.library(emotion))
        assert result["library_sizes"][emotion] == size
        assert scores["random"] == pytest.approx(K / (size - SEEDS))
    assert set(result["overall"]) == set(METHODS)


def test_our_ranking_beats_random_and_most_popular(result):
    # Measured with 200 trials per emotion: about 12x random and 6x most popular (docs/benchmarks.md);
    # a ranking that ignored the profile would sit near random.
    overall = result["overall"]
    assert overall["ours"] > 5 * overall["random"], overall
    assert overall["ours"] > 3 * overall["most_popular"], overall
    assert overall["ours_random_ties"] > 5 * overall["random"], overall


def test_it_is_deterministic_for_a_seed(result, catalogue):
    again = evaluate(trials=TRIALS, seed=7, catalogue=catalogue)
    assert again["per_emotion"] == result["per_emotion"]
    other = evaluate(trials=TRIALS, seed=8, catalogue=catalogue)
    assert other["per_emotion"] != result["per_emotion"]


def test_run_returns_a_flat_table():
    table = run(trials=2)
    assert table["trials_per_emotion"] == 2
    assert all(isinstance(v, (int, float, str)) for v in table.values()), table
    rows = [k for k in table if k.startswith(f"hit@{K} ")]
    assert len(rows) == len(EMOTIONS) + 2  # each emotion, overall, its standard error
    assert all(len(table[k].split(" / ")) == len(METHODS) for k in rows)


def test_bad_input_gets_a_clear_error(tmp_path, catalogue):
    with pytest.raises(FileNotFoundError, match="catalogue file not found"):
        load_catalogue(tmp_path / "missing.jsonl.gz")
    broken = tmp_path / "songs.jsonl.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"tags": ["pop"], "emotions": {"happy": 1.0}}) + "\n{not json\n")
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        load_catalogue(broken)
    with pytest.raises(ValueError, match="trials"):
        evaluate(trials=0, catalogue=catalogue)
    with pytest.raises(ValueError, match="unknown emotion"):
        evaluate(trials=1, catalogue=catalogue, emotions=("bored",))
